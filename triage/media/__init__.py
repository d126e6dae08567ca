"""Picture inventory, hashing and exhibit matching (issue 7).

Public API for the case store and other callers:

* :func:`triage.media.inventory.inventory` / :func:`~triage.media.inventory.iter_images`: pictures
  in an :class:`~triage.evidence.Evidence`, by content sniffing;
* :func:`triage.media.hashes.hash_media`: hash them (process pool, :class:`HashCache`);
* :func:`triage.media.exhibits.load_exhibits`: exhibit pictures, CSV hash lists, VICS JSON;
* :func:`triage.media.matching.find_matches` and
  :func:`~triage.media.matching.match_source_hashes` (WhatsApp ``file_hash``);
* :class:`triage.media.cache.HashCache` protocol with :class:`HashRecord` records.
"""

from importlib import import_module
from typing import Any

# Loaded on first use, so ``triage --help`` and the other commands do not pay for Pillow, numpy,
# imagehash and scipy.
_EXPORTS = {
    "PIPELINE_VERSION": "pipeline",
    "ExhibitSet": "exhibits",
    "load_exhibits": "exhibits",
    "HashCache": "cache",
    "HashRecord": "cache",
    "MemoryHashCache": "cache",
    "SqliteHashCache": "cache",
    "StoreHashCache": "cache",
    "HashRun": "hashes",
    "hash_media": "hashes",
    "MediaFile": "inventory",
    "inventory": "inventory",
    "sniff_image": "inventory",
    "Match": "matching",
    "file_hash_to_sha256": "matching",
    "find_matches": "matching",
    "load_profile": "matching",
    "match_source_hashes": "matching",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'triage.media' has no attribute {name!r}")
    return getattr(import_module(f"triage.media.{_EXPORTS[name]}"), name)

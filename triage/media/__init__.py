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

from triage.media.cache import HashCache, HashRecord, MemoryHashCache, SqliteHashCache
from triage.media.exhibits import ExhibitSet, load_exhibits
from triage.media.hashes import HashRun, hash_media
from triage.media.inventory import MediaFile, inventory, sniff_image
from triage.media.matching import (
    Match,
    file_hash_to_sha256,
    find_matches,
    load_profile,
    match_source_hashes,
)
from triage.media.pipeline import PIPELINE_VERSION

__all__ = [
    "PIPELINE_VERSION",
    "ExhibitSet",
    "HashCache",
    "HashRecord",
    "HashRun",
    "Match",
    "MediaFile",
    "MemoryHashCache",
    "SqliteHashCache",
    "file_hash_to_sha256",
    "find_matches",
    "hash_media",
    "inventory",
    "load_exhibits",
    "load_profile",
    "match_source_hashes",
    "sniff_image",
]

"""Thumbnails of Android's gallery caches hashed and matched with exhibits: the one rule the run's
media step and the ``triage match``/``triage hash`` commands share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from triage.media.cache import HashCache, HashRecord
from triage.media.exhibits import ExhibitSet
from triage.media.gallery import CachedThumbnail, GalleryCaches, originals_present
from triage.media.hashes import digest_bytes, hash_bytes
from triage.media.matching import Match, MatchProfile, find_matches
from triage.media.thumbnails import thumbnail_facts


def hash_cached_thumbnails(gallery: GalleryCaches, cache: HashCache) -> dict[str, HashRecord]:
    """Hash records of the gallery caches' thumbnails by their key, taken from the cache when
    an earlier run hashed the same content (a thumbnail is a few kB: decoded in this process)."""
    digests = {t.key: digest_bytes(t.data) for t in gallery.thumbnails}
    known = cache.get_many({d.sha256 for d in digests.values()})
    out: dict[str, HashRecord] = {}
    for thumb in gallery.thumbnails:
        digest = digests[thumb.key]
        record = known.get(digest.sha256)
        if record is None:
            record = hash_bytes(thumb.data, digests=digest)
            known[digest.sha256] = record
        out[thumb.key] = record
    return out


def match_cached_thumbnails(
    gallery: GalleryCaches,
    records: dict[str, HashRecord],
    exhibits: ExhibitSet,
    profile: MatchProfile,
) -> list[Match]:
    """Exhibits found among the cached thumbnails: thumbnail matches, verified on their bytes."""
    by_key = {t.key: t for t in gallery.thumbnails}
    matches = find_matches(
        sorted(records.items()), exhibits, profile, load=lambda k: by_key[k].data
    )
    for match in matches:
        match.via = "thumbnail"
    return matches


def cached_thumbnail_facts(
    cached: CachedThumbnail,
    record: HashRecord,
    exhibit_size: tuple[int | None, int | None],
    logicals: Iterable[str],
) -> dict[str, Any]:
    """What a finding says of a cached thumbnail: its resolution and where the cache holds it."""
    return thumbnail_facts(
        record,
        exhibit_size,
        kind="preview kept in the gallery's thumbnail cache",
        locator=cached.locator(),
        cache=cached.cache,
        cache_sha256=cached.cache_sha256,
        cache_format=cached.cache_format,
        record_number=cached.number,
        offset=cached.offset,
        **cached.facts,
        originals_found=originals_present(cached.facts.get("original_path"), logicals),
    )

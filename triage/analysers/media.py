"""Exhibit matches, linked to the messages that carried each copy.

Reads what the run's media step stored (``media_matches``, ``exhibits``, the hashing summary in
``meta``) and the labels of the contacts and duty analysers, and writes ``exhibit.match`` (one
per exhibit and copy, with every message that sent or received it: platform, conversation,
counterparty, whether that party is a case contact or unknown, direction, time and duty status)
and ``media.summary``. A copy found only through a digest an app recorded (WhatsApp's
``file_hash``) is linked through that attachment even when the file is gone from the phone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from triage.analysers import Analyser, Settings
from triage.analysers.parties import ContactIndex, plural
from triage.casefile import Case
from triage.model import iso_utc
from triage.store import Finding, Store, StoredMessage

BAND_WEIGHT = {"exact": 1.0, "match": 0.9, "review": 0.5}
# How a crop-resistant match's orientation reads (triage.media.pipeline.ORIENTATIONS; Pillow's
# ROTATE_90 turns anticlockwise).
TURNS = {
    "rot90": "turned 90° anticlockwise",
    "rot180": "turned 180°",
    "rot270": "turned 90° clockwise",
    "mirror": "mirrored left to right",
    "mirror+rot90": "mirrored and turned 90° anticlockwise",
    "mirror+rot180": "mirrored and turned 180° (flipped top to bottom)",
    "mirror+rot270": "mirrored and turned 90° clockwise",
}
# Matches whose ``file`` is a file on the device (the others name a database record).
ON_DEVICE = ("file", "video_frame", "video")


def exhibit_matches(
    store: Store,
) -> list[tuple[dict[str, Any], list[dict[str, Any]], list[StoredMessage]]]:
    """The matches of each exhibit and distinct content, as ``exhibit.match`` reports them: the
    match shown, every match of that content, and the messages carrying any of them. The same
    copy stored in two places (the app's media folder and an MMS part) is one picture, listed
    with every place it is. (The groups analyser names the exhibits of a group's media by it.)"""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    thumbs_at: dict[str, list[int]] = {}
    for thumb in store.thumbnails():
        if thumb["path"]:
            thumbs_at.setdefault(thumb["path"], []).append(thumb["message_id"])
    for match in store.media_matches():
        key = (match["exhibit_id"], match["sha256"] or match["file"])
        groups.setdefault(key, []).append(match)
    out = []
    for group in groups.values():
        match = min(group, key=lambda m: (m["via"] != "file", m["distance"], m["file"]))
        attachments = [a for m in group for a in _attachments(store, m, thumbs_at)]
        messages = store.messages_by_ids(dict.fromkeys(a["message_id"] for a in attachments))
        out.append((match, group, messages))
    return out


def _attachments(
    store: Store, match: dict[str, Any], thumbs_at: dict[str, list[int]]
) -> list[dict[str, Any]]:
    if match.get("attachment_id") is not None:
        return store.attachment(match["attachment_id"])
    if match["via"] == "thumbnail":
        thumb = match["data"]["thumbnail"]
        # A gallery cache's preview belongs to no message: it names the original file.
        return [{"message_id": thumb["message_id"]}] if "message_id" in thumb else []
    found = store.attachments_for(path=match["file"], sha256=match["sha256"])
    # A preview file an app named for a message (iOS ``.thumb``) links to that message.
    return found + [{"message_id": m} for m in thumbs_at.get(match["file"], [])]


class MediaAnalyser(Analyser):
    name = "media"
    version = "2"

    def run(self, store: Store, case: Case, settings: Settings) -> Iterable[Finding]:
        meta = store.meta().get("media") or {}
        exhibits = {e["id"]: e for e in store.exhibits()}
        contact_of = store.labels("contacts", "contact")
        index = ContactIndex(case)
        names = {c.key: c.name for c in case.contacts}
        findings: list[Finding] = []

        for match, group, messages in exhibit_matches(store):
            thumbnail = match["data"].get("thumbnail")
            full_gone = bool(thumbnail) and not any(
                m["via"] == "file" and not m["data"].get("thumbnail") for m in group
            )
            duty_of = store.labels("duty", "status", (m.id for m in messages))
            linked = [self._link(m, index, contact_of, duty_of) for m in messages]
            exhibit = exhibits.get(match["exhibit_id"], {})
            description = exhibit.get("description")
            unknown = sum(
                1 for item in linked if item["contact_key"] is None and item["counterparty"]
            )
            to_contacts = sorted(
                {names[i["contact_key"]] for i in linked if i["contact_key"] in names}
            )
            where = self._where(match)
            if len(group) > 1:
                where += f" and in {len(group) - 1} other place{'s' if len(group) > 2 else ''}"
            what = "copy" if match["band"] != "review" else "possible copy (for review)"
            if thumbnail:
                what = "thumbnail match" + (" (for review)" if match["band"] == "review" else "")
            why = (
                f"A {what} of exhibit {match['exhibit_id']} was found {where} "
                f"({self._method(match)})."
            )
            if thumbnail and thumbnail.get("resolution"):
                exhibit_size = (
                    f" (the exhibit is {thumbnail['exhibit_width']}x{thumbnail['exhibit_height']})"
                    if thumbnail.get("exhibit_width")
                    else ""
                )
                why += (
                    f" It is a preview of {thumbnail['resolution']} pixels{exhibit_size}, lower "
                    "in resolution than the exhibit, so it shows the picture's layout rather "
                    "than its detail."
                )
            if thumbnail and thumbnail.get("cache"):
                why += " " + self._cache_text(thumbnail, case)
            region = match["data"].get("region")
            if match["method"] == "region":
                why += " " + self._region_text(match["data"], match["orientation"])
            verified = match["data"].get("verified")
            if verified:
                why += (
                    " Checked on the pixels: laid over the exhibit, the picture's content lines "
                    f"up (correlation {verified['ncc']:.2f}, fine detail "
                    f"{verified['detail_ncc']:.2f}, {round(verified['tiles'] * 100)} % of its "
                    "tiles agree)."
                )
            video = match["data"].get("video")
            exhibit_copy = exhibit.get("copy")
            if video and match["via"] == "video":
                why += " " + self._video_text(video)
                exhibit_copy = next(
                    (f["exhibit_copy"] for f in video.get("shown", []) if f.get("exhibit_copy")),
                    exhibit_copy,
                )
            elif video and "exhibit_t" in video:
                why += (
                    f" It matches the exhibit video's frame at {video['exhibit_t']:g} s (a still "
                    "or screenshot of the clip)."
                )
                exhibit_copy = video.get("exhibit_copy") or exhibit_copy
            elif video:
                times = ", ".join(f"{f['t']:g} s" for f in video["matching_frames"][:10])
                why += (
                    f" It is a frame of a video: {len(video['matching_frames'])} of the "
                    f"{video['frames_hashed']} frames sampled ({video['sampled']}) match, at "
                    f"{times}."
                )
            if full_gone:
                why += " No full-size copy of that picture was found in the sources read."
            if linked:
                sent = sum(1 for i in linked if i["direction"] == "outgoing")
                received = sum(1 for i in linked if i["direction"] == "incoming")
                parts = []
                if sent:
                    parts.append(f"sent in {sent} message{'s' if sent != 1 else ''}")
                if received:
                    parts.append(f"received in {received} message{'s' if received != 1 else ''}")
                why += " It was " + " and ".join(parts or ["carried by a message"])
                if unknown:
                    why += f", {unknown} of them with a party who is not a case contact"
                if to_contacts:
                    why += f", with {', '.join(to_contacts)}"
                why += "."
            else:
                why += " No message in the sources read refers to this file."
            findings.append(
                Finding(
                    analyser=self.name,
                    rule="exhibit.match",
                    subject=match["exhibit_id"],
                    title=(
                        f"Exhibit {match['exhibit_id']}: "
                        f"{'thumbnail match, ' if thumbnail else ''}{match['band']} "
                        f"({match['method']})"
                    ),
                    why=why,
                    weight=BAND_WEIGHT.get(match["band"], 0.5),
                    data={
                        "exhibit_id": match["exhibit_id"],
                        "reference": match["reference"],
                        "exhibit_description": description,
                        "file": match["file"] if match["via"] in ON_DEVICE else None,
                        "files": sorted({m["file"] for m in group if m["via"] in ON_DEVICE}),
                        "via": match["via"],
                        "sha256": match["sha256"],
                        "method": match["method"],
                        "distance": match["distance"],
                        "band": match["band"],
                        "orientation": match["orientation"],
                        "also": match["data"].get("also", {}),
                        "exhibit_copy": exhibit_copy,
                        "file_copy": match["copy"],
                        "thumbnail": thumbnail,
                        "video": video,
                        "region": region,
                        "picture_size": match["data"].get("picture_size"),
                        "exhibit_crop": match["data"].get("exhibit_crop"),
                        "verified": verified,
                        "full_copy_found": not full_gone,
                        "messages": linked,
                        "unknown_recipients": unknown,
                    },
                    refs=[m.id for m in messages],
                )
            )

        findings.append(
            Finding(
                analyser=self.name,
                rule="media.summary",
                title="Pictures hashed",
                why=(
                    f"{plural(int(meta.get('pictures', 0) or 0), 'picture')} found by content "
                    f"and compared with {plural(len(exhibits), 'exhibit')}; "
                    f"{len(meta.get('unreadable', [])):,} could not be read and are listed."
                    + self._caches_text(meta.get("gallery_caches") or [])
                ),
                data={
                    "images": meta.get("pictures", 0),
                    "hashed": meta.get("hashed", 0),
                    "unreadable": [{"file": f, "reason": r} for f, r in meta.get("unreadable", [])],
                    "gallery_caches": meta.get("gallery_caches") or [],
                    "thresholds": meta.get("settings", {}).get("matching"),
                    "pipeline": meta.get("settings", {}).get("pipeline"),
                },
            )
        )
        return findings

    @staticmethod
    def _caches_text(caches: list[dict[str, Any]]) -> str:
        if not caches:
            return ""
        thumbs = sum(c["thumbnails"] for c in caches)
        damaged = sum(c["damaged"] for c in caches)
        text = (
            f" {plural(thumbs, 'thumbnail')} read from {plural(len(caches), 'gallery cache file')}"
            " and compared too"
        )
        if damaged:
            text += f"; {plural(damaged, 'damaged record')} in them, listed with the warnings"
        return text + "."

    @staticmethod
    def _cache_text(thumb: dict[str, Any], case: Case) -> str:
        """What a gallery cache says about the picture its preview was drawn from."""
        parts = []
        original = thumb.get("original_path")
        if original:
            text = f"The cache names the original file {original}"
            when = thumb.get("original_time_utc")
            if when:
                moment = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
                local = moment.astimezone(case.zone)
                text += f" (time in the cache {local.strftime('%Y-%m-%d %H:%M:%S %Z')})"
            found = thumb.get("originals_found") or []
            text += (
                f"; a file at that place is in the sources read: {', '.join(found)}."
                if found
                else "; no file at that place is in the sources read."
            )
            parts.append(text)
        elif thumb.get("media_id") is not None:
            parts.append(
                f"The file does not name the original; its block number is the picture's id in "
                f"the media database ({thumb['media_id']})."
            )
        if thumb.get("in_index") is False:
            parts.append(
                "The cache's index no longer lists this record (it was replaced or dropped), but "
                "its bytes are still in the file."
            )
        if thumb.get("checksum_ok") is False:
            parts.append("The record's checksum does not match its bytes: it may be damaged.")
        return " ".join(parts)

    @staticmethod
    def _video_text(video: dict[str, Any]) -> str:
        """An exhibit video found in a phone video: how much of it, and where in time."""
        if video.get("share") is None:
            return ""
        matched = len(video.get("matching_frames") or [])
        text = (
            f"{matched} of the {video.get('exhibit_frames')} frames sampled from the exhibit "
            f"video ({round(video['share'] * 100)} %) have a matching frame in this video"
        )
        offset = video.get("offset")
        if offset:
            text += (
                f"; the exhibit's 0 s is at {offset:g} s in this video"
                if offset > 0
                else f"; this video's 0 s is the exhibit's {-offset:g} s"
            )
        return text + "."

    @staticmethod
    def _where(match: dict[str, Any]) -> str:
        if match["via"] == "video":
            return f"in the video {match['file']}"
        if match["via"] == "video_frame":
            return f"in the video {match['file']}"
        if match["via"] == "thumbnail":
            thumb = match["data"]["thumbnail"]
            if thumb.get("cache"):
                return f"in the gallery's thumbnail cache {thumb['cache']} ({thumb.get('locator')})"
            return f"in the app's database ({thumb.get('locator')})"
        if match["via"] == "source_hash":
            return "recorded by the app as a sent or received file (the file itself need not be on the phone)"
        return f"at {match['file']}"

    @staticmethod
    def _region_text(data: dict[str, Any], orientation: str | None = None) -> str:
        region, size = data.get("region"), data.get("picture_size")
        crop = data.get("exhibit_crop") or [0, 0, 0, 0]
        text = ""
        if region and size:
            left, top, right, bottom = region
            text = (
                f"The exhibit appears inside a larger picture: the area from ({left}, {top}) to "
                f"({right}, {bottom}) of its {size[0]}x{size[1]} pixels (outlined in the report)."
            )
        if any(crop):
            cut = ", ".join(
                f"{round(v * 100)} % {side}"
                for v, side in zip(crop, ("left", "top", "right", "bottom"), strict=True)
                if v
            )
            text += f"{' ' if text else ''}It matches a crop of the exhibit ({cut} removed)."
        if orientation and orientation in TURNS:
            text += f"{' ' if text else ''}It shows the exhibit {TURNS[orientation]}."
        return text

    @staticmethod
    def _method(match: dict[str, Any]) -> str:
        if match["method"] == "region":
            also = match["data"].get("also") or {}
            return (
                f"crop-resistant comparison: phash distance {match['distance']} and dhash "
                f"distance {also.get('dhash')}"
            )
        if match["method"] == "frames":
            return f"sampled frames compared by phash, closest distance {match['distance']}"
        if match["method"] in ("sha256", "md5", "sha1"):
            return f"identical {match['method'].upper()}"
        return f"{match['method']} distance {match['distance']}"

    @staticmethod
    def _link(
        stored: StoredMessage,
        index: ContactIndex,
        contact_of: dict[int, Any],
        duty_of: dict[int, Any],
    ) -> dict[str, Any]:
        m = stored.message
        parties = list(index.counterparties(m))
        other = parties[0] if parties else None
        return {
            "message_id": stored.id,
            "platform": m.platform,
            "conversation": m.conversation.id,
            "conversation_title": m.conversation.title,
            "direction": m.direction,
            "counterparty": {"raw": other.raw, "id": other.id, "name": other.name}
            if other
            else None,
            "contact_key": contact_of.get(stored.id),
            "duty_status": duty_of.get(stored.id),
            "timestamp_utc": iso_utc(m.timestamp_utc),
            "locator": m.source.locator,
            "file": m.source.file,
        }

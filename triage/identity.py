"""Normalise identifiers once, so every form of the same number or account meets.

``07700 900123``, ``+44 7700 900123``, ``0044 7700 900123``, ``447700900123@s.whatsapp.net`` and a
number wrapped in direction marks all become ``Party(scheme="phone", id="+447700900123")``. Short
codes and alphanumeric SMS sender ids are kept as written (forcing them into a number would invent
a party). The raw value is always kept beside the normalised one.
"""

from __future__ import annotations

import functools
import re

import phonenumbers

from triage.model import Party

# Direction marks, isolates, BOM and no-break spaces that phones and exports wrap around numbers
# and names (WhatsApp exports wrap every phone number in U+202A ... U+202C, for example).
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u200b"), None
)
_SPACES = {0x00A0: " ", 0x202F: " ", 0x2007: " ", 0x2009: " "}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONEISH = re.compile(r"^[+(]?[\d\s().\-/]{5,}$")
_SHORTCODE = re.compile(r"^\d{3,6}$")
_FACEBOOK_KEY = re.compile(r"^(?:FACEBOOK|facebook|fb):(\d+)$")
_FACEBOOK_URL = re.compile(
    r"^(?:https?://)?(?:www\.|m\.)?facebook\.com/(?:profile\.php\?id=(\d+)|([A-Za-z0-9.]+))/?$"
)
_ARABIC_INDIC = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def clean(text: str) -> str:
    """Strip invisible formatting characters and unify odd spaces; used for matching only."""
    return text.translate(_INVISIBLE).translate(_SPACES).strip()


# A phone's call log, SMS and address book name the same few hundred numbers again and again;
# reading one with libphonenumber costs about 40 us, so each (text, region) is read once.
@functools.lru_cache(maxsize=1 << 16)
def normalise_phone(raw: str, region: str = "GB") -> str | None:
    """E.164 for anything that reads as a phone number in ``region``, else ``None``.

    A number valid in the region wins; a bare run of digits that is only valid with a leading
    "+" (a WhatsApp jid user part, ``447700900123``) is read as international; otherwise a
    number that is merely possible in the region is accepted.
    """
    text = clean(raw).translate(_ARABIC_INDIC)
    if text.startswith("00"):
        text = "+" + text[2:]
    digits = re.sub(r"\D", "", text)
    if len(digits) < 6:
        return None
    candidates = []
    try:
        candidates.append(phonenumbers.parse(text, None if text.startswith("+") else region))
    except phonenumbers.NumberParseException:
        pass
    if not text.startswith("+") and re.fullmatch(r"\d{10,15}", text):
        try:
            candidates.append(phonenumbers.parse("+" + digits, None))
        except phonenumbers.NumberParseException:
            pass
    for check in (phonenumbers.is_valid_number, phonenumbers.is_possible_number):
        for number in candidates:
            if check(number):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def party(
    raw: str | None, region: str = "GB", name: str | None = None, scheme: str | None = None
) -> Party | None:
    """Build a :class:`Party` from a raw identifier, working out its scheme when not given."""
    if raw is None:
        return None
    raw = str(raw)
    text = clean(raw)
    if not text:
        return Party(raw=raw, id=None, name=name, scheme=scheme or "other")
    if scheme == "name":
        return Party(raw=raw, id=normalise_name(text), name=name or text, scheme="name")
    if scheme == "phone":
        return Party(raw=raw, id=normalise_phone(text, region) or text, name=name, scheme="phone")
    if scheme is not None and scheme not in ("whatsapp", "jid"):
        return Party(raw=raw, id=_normalise_other(text, scheme), name=name, scheme=scheme)

    if "@" in text:
        user, _, server = text.partition("@")
        server = server.lower()
        if server in ("s.whatsapp.net", "c.us", "whatsapp.net"):
            user = user.split(":")[0].split(".")[0]  # device suffixes: 4477...:12@ / 4477....0:0@
            phone = normalise_phone("+" + user, region) if user.isdigit() else None
            return Party(raw=raw, id=phone or user, name=name, scheme="phone" if phone else "other")
        if server == "lid":
            return Party(raw=raw, id=f"{user.split(':')[0]}@lid", name=name, scheme="whatsapp_lid")
        if server == "g.us":
            return Party(raw=raw, id=f"{user}@g.us", name=name, scheme="whatsapp_group")
        if server == "broadcast":
            return Party(raw=raw, id=f"{user}@broadcast", name=name, scheme="other")
        if _EMAIL.match(text):
            return Party(raw=raw, id=text.lower(), name=name, scheme="email")
    fb = _FACEBOOK_KEY.match(text)
    if fb:
        return Party(raw=raw, id=f"fb:{fb.group(1)}", name=name, scheme="facebook")
    url = _FACEBOOK_URL.match(text)
    if url:
        ident = url.group(1) or url.group(2).lower()
        return Party(raw=raw, id=f"fb:{ident}", name=name, scheme="facebook")
    if _SHORTCODE.match(text):
        return Party(raw=raw, id=text, name=name, scheme="shortcode")
    if _PHONEISH.match(text.translate(_ARABIC_INDIC)):
        phone = normalise_phone(text, region)
        if phone:
            return Party(raw=raw, id=phone, name=name, scheme="phone")
    if re.fullmatch(r"[A-Za-z0-9 .&\-_]{2,11}", text) and any(c.isalpha() for c in text):
        # GSM alphanumeric sender ids are at most 11 characters.
        return Party(raw=raw, id=text, name=name, scheme="alphanumeric")
    return Party(raw=raw, id=text, name=name, scheme="other")


def _normalise_other(text: str, scheme: str) -> str:
    if scheme == "email":
        return text.lower()
    if scheme == "facebook":
        fb = _FACEBOOK_KEY.match(text) or _FACEBOOK_URL.match(text)
        if fb:
            groups = [g for g in fb.groups() if g]
            return f"fb:{groups[0].lower()}"
        return f"fb:{text.lower()}"
    if scheme == "whatsapp_lid":
        return text if text.endswith("@lid") else f"{text}@lid"
    return text


def normalise_name(name: str) -> str:
    """Case- and space-folded display name, for matching names (Messenger) only."""
    return " ".join(clean(name).casefold().split())

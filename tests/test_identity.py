from __future__ import annotations

import pytest

from triage.identity import party


@pytest.mark.parametrize(
    "raw",
    [
        "07700 900123",
        "+44 7700 900123",
        "0044 7700 900123",
        "447700900123@s.whatsapp.net",
        "\u202a+44\u00a07700\u00a0900123\u202c",
        "(07700) 900-123",
        "447700900123:12@s.whatsapp.net",
    ],
)
def test_every_form_of_a_uk_mobile_meets(raw: str) -> None:
    p = party(raw, "GB")
    assert (p.scheme, p.id) == ("phone", "+447700900123")
    assert p.raw == raw  # the raw value is kept beside the normalised one


def test_region_decides_national_numbers() -> None:
    assert party("(201) 555-0123", "US").id == "+12015550123"
    assert party("0201 5550123", "GB").id != "+12015550123"


@pytest.mark.parametrize(
    ("raw", "scheme", "ident"),
    [
        ("82223", "shortcode", "82223"),
        ("HSBC-UK", "alphanumeric", "HSBC-UK"),
        ("Witness.D@Example.org", "email", "witness.d@example.org"),
        ("123456789012345@lid", "whatsapp_lid", "123456789012345@lid"),
        ("120363000000000000@g.us", "whatsapp_group", "120363000000000000@g.us"),
        ("FACEBOOK:100000000000123", "facebook", "fb:100000000000123"),
        (
            "https://www.facebook.com/profile.php?id=100000000000123",
            "facebook",
            "fb:100000000000123",
        ),
    ],
)
def test_non_phone_identifiers_are_kept_as_what_they_are(raw: str, scheme: str, ident: str) -> None:
    p = party(raw, "GB")
    assert (p.scheme, p.id) == (scheme, ident)


def test_names_fold_case_and_spaces() -> None:
    assert party("  Jess   TATE ", scheme="name").id == "jess tate"

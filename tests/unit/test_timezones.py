"""Place names to IANA zones."""

from __future__ import annotations

from zoneinfo import available_timezones

import pytest

from bot.domain.timezones import TimezoneResolver, load_aliases

RESOLVER = TimezoneResolver(available_timezones(), load_aliases())


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Vancouver", "America/Vancouver"),
        ("vancouver, BC", "America/Vancouver"),
        ("Manila", "Asia/Manila"),
        ("São Paulo", "America/Sao_Paulo"),
        ("sao paulo", "America/Sao_Paulo"),
        ("London", "Europe/London"),
        ("asia/manila", "Asia/Manila"),
        ("America/New_York", "America/New_York"),
        ("New York", "America/New_York"),
        ("NYC", "America/New_York"),
        ("San Francisco", "America/Los_Angeles"),
        ("Pacific time", "America/Los_Angeles"),
        ("Ho Chi Minh", "Asia/Ho_Chi_Minh"),
        ("Saigon", "Asia/Ho_Chi_Minh"),
        ("Philippines", "Asia/Manila"),
        ("Bengaluru", "Asia/Kolkata"),
        ("UTC", "UTC"),
    ],
)
def test_places_resolve(typed: str, zone: str) -> None:
    assert RESOLVER.resolve(typed).zone == zone


@pytest.mark.parametrize("typed", ["Atlantis", "", "   ", "the moon", "12345"])
def test_unknown_places_do_not_resolve(typed: str) -> None:
    match = RESOLVER.resolve(typed)
    assert match.zone is None and match.candidates == ()


def test_ambiguous_city_lists_candidates() -> None:
    resolver = TimezoneResolver(["America/Kingston_Test", "Europe/Kingston_Test"], {})
    match = resolver.resolve("kingston test")
    assert match.zone is None and len(match.candidates) == 2


def test_every_shipped_alias_names_a_real_zone() -> None:
    zones = available_timezones()
    assert [name for name, zone in load_aliases().items() if zone not in zones] == []

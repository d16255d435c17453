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
        ("Chengdu", "Asia/Shanghai"),
        ("Kaohsiung", "Asia/Taipei"),
        ("Penang", "Asia/Kuala_Lumpur"),
        ("Surabaya", "Asia/Jakarta"),
        ("Daegu", "Asia/Seoul"),
        ("Yokohama", "Asia/Tokyo"),
        ("Davao", "Asia/Manila"),
        ("Da Nang", "Asia/Ho_Chi_Minh"),
        ("Đà Nẵng", "Asia/Ho_Chi_Minh"),
        ("Hyderabad", "Asia/Kolkata"),
        ("Fremont", "America/Los_Angeles"),
        ("Irvine", "America/Los_Angeles"),
        ("Brooklyn", "America/New_York"),
        ("Brooklyn, NY", "America/New_York"),
        ("JST", "Asia/Tokyo"),
        ("kst", "Asia/Seoul"),
        ("SGT", "Asia/Singapore"),
        ("HKT", "Asia/Hong_Kong"),
        ("PHT", "Asia/Manila"),
        ("AEST", "Australia/Sydney"),
        ("PST", "America/Los_Angeles"),
        ("PDT", "America/Los_Angeles"),
        ("EST", "America/New_York"),
        ("EDT", "America/New_York"),
    ],
)
def test_places_resolve(typed: str, zone: str) -> None:
    assert RESOLVER.resolve(typed).zone == zone


@pytest.mark.parametrize("typed", ["Xyzzyville", "", "   ", "the moon", "12345"])
def test_unknown_places_do_not_resolve(typed: str) -> None:
    match = RESOLVER.resolve(typed)
    assert match.zone is None and match.candidates == ()


def test_ambiguous_city_lists_candidates() -> None:
    resolver = TimezoneResolver(["America/Kingston_Test", "Europe/Kingston_Test"], {})
    match = resolver.resolve("kingston test")
    assert match.zone is None and len(match.candidates) == 2


def test_every_shipped_alias_names_a_real_zone() -> None:
    zones = available_timezones()
    named = {
        name: (zone,) if isinstance(zone, str) else zone for name, zone in load_aliases().items()
    }
    assert [name for name, found in named.items() if not set(found) <= zones] == []


@pytest.mark.parametrize(("typed", "expected"), [("IST", "Asia/Kolkata"), ("Springfield", None)])
def test_a_shared_name_offers_the_candidates(typed: str, expected: str | None) -> None:
    match = RESOLVER.resolve(typed)
    assert match.zone is None and len(match.candidates) >= 2
    if expected:
        assert expected in match.candidates


def test_a_much_bigger_city_wins_a_shared_name_and_close_ones_stay_ambiguous() -> None:
    from bot.domain.timezones import City

    cities = [
        City("Twinton", "Asia/Tokyo", 900_000),
        City("Twinton", "Europe/Paris", 100_000),
        City("Evenfield", "Asia/Tokyo", 200_000),
        City("Evenfield", "Europe/Paris", 150_000),
    ]
    resolver = TimezoneResolver(["Asia/Tokyo", "Europe/Paris"], {}, cities)
    assert resolver.resolve("twinton").zone == "Asia/Tokyo"
    assert resolver.resolve("Evenfield").candidates == ("Asia/Tokyo", "Europe/Paris")

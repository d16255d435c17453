"""When a quiet pair space is warned and when it closes (pure), the setting's bounds, and the
words each person reads: kind, private, never blaming, hostile server names harmless."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import pairs as d

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
WARNED = (T0, T0 + 90 * DAY)  # a warning about the silence since T0, announcing day 90


@pytest.mark.parametrize(
    ("setting", "quiet_days", "warning", "expected"),
    [
        (90, 20, None, None),  # just quiet
        (90, 82.9, None, None),  # a week and a bit before: not yet
        (90, 83, None, "warn"),  # a week before the close
        (90, 90, None, "warn"),  # Lantern was away: warn first, never close unwarned
        (90, 300, None, "warn"),
        (90, 85, WARNED, None),  # warned, waiting
        (90, 89.9, WARNED, None),
        (90, 90, WARNED, "end"),  # the announced day
        (90, 96.9, WARNED, "end"),  # a late sweep still closes
        (90, 97, WARNED, "warn"),  # a week past the date (Lantern was away): warn again
        (90, 90, (T0 - 5 * DAY, T0 + 85 * DAY), "warn"),  # a warning about an older silence
        (30, 40, WARNED, None),  # shortened after the warning: never sooner than told
        (30, 90, WARNED, "end"),
        (120, 95, WARNED, None),  # lengthened: the space stays open longer than told
        (120, 100, WARNED, None),  # the old warning is stale, the new one not due yet
        (120, 113, WARNED, "warn"),
        (0, 83, None, None),  # off
        (0, 500, WARNED, None),  # off, even after a warning
        (14, 7, None, "warn"),  # the shortest setting: a week of quiet, then a week's notice
        (14, 6.9, None, None),
    ],
)
def test_when_a_quiet_space_is_warned_and_closed(
    setting: int,
    quiet_days: float,
    warning: tuple[datetime, datetime] | None,
    expected: str | None,
) -> None:
    warned_for, closes_at = warning or (None, None)
    action = d.inactivity_action(
        last_activity=T0,
        warned_for=warned_for,
        closes_at=closes_at,
        now=T0 + timedelta(days=quiet_days),
        rhythm=d.Rhythm(close_after_quiet_days=setting),
    )
    assert action == expected


def test_the_sweep_filter_reaches_every_pair_that_could_be_due() -> None:
    shortest = d.Rhythm(close_after_quiet_days=d.MIN_CLOSE_AFTER_DAYS)
    now = T0 + d.QUIET_BEFORE_WARNING
    assert d.inactivity_action(
        last_activity=T0, warned_for=None, closes_at=None, now=now, rhythm=shortest
    )


@pytest.mark.parametrize(
    ("quiet_days", "expected_close_day"),
    [
        (83, 90),  # on time: the setting's date
        (83.5, 90.5),  # an hour... half a day late: still a full week's notice
        (200, 207),  # long after: a week from now
    ],
)
def test_the_announced_date_is_never_within_a_week(
    quiet_days: float, expected_close_day: float
) -> None:
    now = T0 + timedelta(days=quiet_days)
    closes = d.closing_date(T0, now, d.Rhythm())
    assert closes == T0 + timedelta(days=expected_close_day)


@pytest.mark.parametrize(
    ("days", "ok"),
    [(0, True), (1, False), (13, False), (14, True), (90, True), (730, True), (731, False)],
)
def test_the_setting_is_off_or_at_least_two_weeks(days: int, ok: bool) -> None:
    problem = d.close_after_problem(days)
    assert (problem is None) == ok
    if not ok:
        assert problem is not None and "Nothing was saved" in problem and "0" in problem


@pytest.mark.parametrize(
    ("saved", "expected"),
    [
        (None, 90),
        ({}, 90),
        ({"close_after_quiet_days": None}, 90),
        ({"close_after_quiet_days": 0}, 0),  # off is a choice, not a missing value
        ({"close_after_quiet_days": 45, "silence_days": 0}, 45),
    ],
)
def test_the_rhythm_keeps_off_as_off(saved: dict[str, int | None] | None, expected: int) -> None:
    assert d.rhythm_from(saved).close_after_quiet_days == expected


def test_the_default_ladder_tells_moderators_before_warning_the_pair() -> None:
    """Nudges on days 21 and 42, moderators on day 63, the warning on day 83, the close on 90."""
    rhythm = d.Rhythm()
    alert_day = rhythm.silence_days * (rhythm.silence_alert_after + 1)
    warn_day = rhythm.close_after_quiet_days - d.CLOSE_WARNING.days
    assert alert_day + 14 <= warn_day < rhythm.close_after_quiet_days


@pytest.mark.parametrize("paused", [False, True])
def test_the_warning_pings_both_gives_the_date_and_says_how_to_keep_it(paused: bool) -> None:
    closes = T0 + 90 * DAY
    text = d.quiet_warning(1, 2, quiet_since=T0, closes_at=closes, reminders_paused=paused)
    assert text.startswith("<@1> <@2> ")
    assert f"<t:{int(closes.timestamp())}:D>" in text and f"<t:{int(T0.timestamp())}:D>" in text
    assert "unless one of you writes here" in text and "keeps it open" in text
    assert ("paused reminders" in text) == paused
    assert len(text) <= 2000 and "@everyone" not in text


@pytest.mark.parametrize("mentor", [False, True])
def test_the_ending_word_is_kind_and_escapes_the_server_name(mentor: bool) -> None:
    text = d.quiet_ended_text(
        server="@everyone [click](https://evil.example) **Team**",
        mentor=mentor,
        quiet_since=T0,
        delete_on=T0 + 120 * DAY,
    )
    assert "@everyone" not in text and "](https://" not in text
    assert "Nobody did anything wrong" in text and "01 May 2026" in text
    assert ("mentor is open again" in text) == mentor
    assert ("introduce you to a new mentor" in text) == (not mentor)
    assert "moderator" not in text.lower()  # no one ended it: nobody is named or blamed


def test_moderators_and_the_space_read_what_happened() -> None:
    note = d.ended_note(7, "inactive", None, None)
    assert note.startswith("Pair **#7** ended (its space was quiet too long")
    assert "\n" not in note  # one line
    assert d.ended_note(7, "moderator", None, None) == "Pair **#7** ended (moderator)"
    quiet = d.closing_note(T0, quiet=True)
    assert "quiet" in quiet and "Nobody did anything wrong" in quiet and "read-only" in quiet
    assert "quiet" not in d.closing_note(T0)


def test_the_settings_sentence_says_whether_quiet_spaces_close() -> None:
    on = d.settings_summary(d.Rhythm(), thread_channel_id=None)
    assert "quiet spaces close after 90 days (warned a week ahead)" in on
    off = d.settings_summary(d.Rhythm(close_after_quiet_days=0), thread_channel_id=None)
    assert "quiet spaces never close" in off

"""The opening message's cards within Discord's embed limits, whatever members wrote."""

from __future__ import annotations

from bot.domain.pairs import Card, fit_cards
from bot.domain.text import EMBED_FIELD_VALUE, EMBED_TOTAL, fit


def test_fitted_cards_stay_within_every_embed_limit() -> None:
    huge = "\\*" * 3000
    cards = [Card(f"Card {n}", tuple((f"Field {i}", huge) for i in range(9))) for n in range(2)]
    fitted = fit_cards(cards)
    values = [v for c in fitted for _, v in c.fields]
    assert all(len(v) <= EMBED_FIELD_VALUE and v.endswith("…") for v in values)
    assert all(not v[:-1].endswith("\\") or v[:-1].endswith("\\\\") for v in values)
    total = sum(len(c.title) + sum(len(k) + len(v) for k, v in c.fields) for c in fitted)
    assert total <= EMBED_TOTAL
    short = [Card("A", (("About", "hello"), ("Empty", "")))]
    assert fit_cards(short)[0].fields == (("About", "hello"), ("Empty", "—"))


def test_fit_never_leaves_a_lone_escape_before_the_ellipsis() -> None:
    assert fit("ab\\*cd", 4) == "ab…"
    assert fit("abc", 3) == "abc"
    assert fit("a\\\\bcdef", 4) == "a\\\\…"

"""Slash-command choice lists that more than one cog offers."""

from __future__ import annotations

from discord import app_commands

from bot.domain.areas import AREAS

AREA_CHOICES = [app_commands.Choice(name=label, value=key) for key, label in AREAS.items()]
"""The mentorship areas, labelled as members read them and keyed as they are stored."""

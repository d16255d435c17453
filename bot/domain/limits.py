"""Bounds of what people type into slash commands, matching what the database stores.

Slash options declare them (``app_commands.Range``) so Discord refuses out-of-range input with
its own message before a use case or the database sees it."""

from __future__ import annotations

MAX_ROW_ID = 2**31 - 1  # a pair or schedule number: PostgreSQL INTEGER
MAX_NOTE = 1000  # a private note or report for moderators
MAX_PROMPT_KEY = 40  # prompt_entry.key
MAX_SCHEDULE_WHEN = 100  # prompt_schedule.expression
MAX_ZONE = 64  # prompt_schedule.timezone
MAX_AREAS = 200  # prompt_schedule.areas

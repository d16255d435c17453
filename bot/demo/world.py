"""The demo's simulated community and the printer that narrates what people saw."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import simcord

from bot.client import LanternBot

_MENTION = re.compile(r"<(#|@&|@!?)(\d+)>")


_TIMESTAMP = re.compile(r"<t:(\d+)(?::([tTdDfFR]))?>")


def _date_for(match: re.Match[str]) -> str:
    """Discord shows <t:…> in the reader's own zone; the transcript shows UTC."""
    moment = datetime.fromtimestamp(int(match.group(1)), tz=UTC)
    if match.group(2) in ("t", "T"):
        return moment.strftime("%H:%M UTC")
    if match.group(2) in ("d", "D"):
        return moment.strftime("%-d %B %Y")
    if match.group(2) == "F":  # Discord's long form names the weekday
        return moment.strftime("%A, %-d %B %Y %H:%M UTC")
    return moment.strftime("%-d %B %Y %H:%M UTC")


def _on_ephemeral(result: Any) -> bool:
    """A click on a private message updates that private message."""
    message = getattr(result.response, "message", None)
    flags = getattr(message, "flags", None)
    return bool(flags and flags.ephemeral)


def _indent(text: str) -> str:
    return textwrap.indent(text.strip() or "(empty)", "      ")


@dataclass
class World:
    """The demo guild, its people and channels, and how to restart the bot."""

    env: simcord.Env
    build_bot: Callable[[], LanternBot]
    guild: simcord.GuildHandle
    general: simcord.ChannelHandle
    moderator_role: simcord.RoleHandle
    people: dict[str, simcord.MemberActor] = field(default_factory=dict)
    out_dir: Path | None = None  # where files people received are saved (the chart)

    @classmethod
    async def create(cls, env: simcord.Env, build_bot: Callable[[], LanternBot]) -> World:
        guild = env.create_guild("Hapa Circle")
        general = guild.create_text_channel("general")
        role = guild.create_role(
            "Community Team", permissions=discord.Permissions(manage_guild=True)
        )
        world = cls(env, build_bot, guild, general, role)
        world.people["Mei (moderator)"] = guild.add_member(env.create_user("mei"), roles=[role])
        await env.settle()
        return world

    def save(self, name: str, content: bytes) -> Path:
        """Save a file someone received next to the transcript (``--out``), else in the
        current directory as ``demo-<name>``."""
        path = self.out_dir / name if self.out_dir else Path(f"demo-{name}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    @property
    def bot(self) -> LanternBot:
        return self.env.bot  # type: ignore[return-value]

    def heading(self, text: str) -> None:
        print(f"\n== {text.strip().splitlines()[0]} ==")

    def say(self, who: str, action: str) -> None:
        print(f"  {who} {action}")

    def show(self, who: str, where: str, text: str) -> None:
        print(f"  -> {who} sees ({where}):\n{_indent(text)}")

    def show_result(self, who: str, result: Any) -> None:
        """Print what an interaction showed the person who made it."""
        if result.modal:
            title = result.modal.get("title", "")
            print(f"  -> {who} sees a form: {title}")
            return
        response = result.response
        if response is None:
            return
        where = (
            "only visible to them"
            if result.ephemeral or _on_ephemeral(result)
            else "in the channel"
        )
        self.show(who, where, self.render(response))
        for follow in getattr(result, "followups", []) or []:
            self.show(who, where, self.render(follow))

    def show_dm(self, who: str, actor: simcord.MemberActor) -> None:
        """Print the newest direct message Lantern sent ``actor``."""
        message = actor.user.dm_channel.last_message
        if message is not None:
            self.show(who, "direct message", self.render(message))

    def show_channel(self, who: str, channel: simcord.ChannelHandle) -> None:
        message = channel.last_message
        if message is not None:
            self.show(who, f"#{channel.name}", self.render(message))

    def render(self, message: Any) -> str:
        """A message as a person would read it: mentions as names, timestamps as dates."""
        return _TIMESTAMP.sub(_date_for, _MENTION.sub(self._name_for, self._render(message)))

    def _name_for(self, match: re.Match[str]) -> str:
        kind, ident = match.group(1), int(match.group(2))
        guild = self.bot.get_guild(self.guild.id)
        if kind == "#":
            channel = self.bot.get_channel(ident)
            return f"#{getattr(channel, 'name', ident)}"
        if kind == "@&":
            role = guild.get_role(ident) if guild else None
            return f"@{role.name if role else ident}"
        member = guild.get_member(ident) if guild else None
        if member is not None:
            return f"@{member.display_name}"
        known = next((p for p in self.people.values() if p.id == ident), None)
        return f"@{known.name if known else ident}"

    @staticmethod
    def _render(message: Any) -> str:
        parts = [getattr(message, "content", "") or ""]
        for embed in getattr(message, "embeds", []) or []:
            if embed.title:
                parts.append(f"[{embed.title}]")
            if embed.description:
                parts.append(embed.description)
            for f in embed.fields:
                parts.append(f"{f.name}: {f.value}")
        labels = []
        for row in getattr(message, "components", []) or []:
            for child in getattr(row, "children", []) or []:
                label = getattr(child, "label", None) or getattr(child, "placeholder", None)
                if label:
                    labels.append(f"[{label}]")
        if labels:
            parts.append(" ".join(labels))
        return "\n".join(p for p in parts if p)

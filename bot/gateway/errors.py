"""Discord's error codes by name, and what a failed send means for Lantern."""

from __future__ import annotations

from enum import IntEnum

import discord

from bot.services.ports import SendFailure


class DiscordCode(IntEnum):
    """The JSON error codes Lantern reacts to (discord.com/developers/docs/topics/opcodes)."""

    UNKNOWN_CHANNEL = 10003
    UNKNOWN_GUILD = 10004
    UNKNOWN_MEMBER = 10007
    UNKNOWN_MESSAGE = 10008
    UNKNOWN_USER = 10013
    UNKNOWN_INTERACTION = 10062
    MAX_GUILD_CHANNELS = 30013
    MISSING_ACCESS = 50001
    DMS_CLOSED = 50007
    MISSING_PERMISSIONS = 50013
    INVALID_FORM_BODY = 50035


_BY_CODE: dict[int, SendFailure] = {
    DiscordCode.DMS_CLOSED: SendFailure.DMS_CLOSED,
    DiscordCode.MISSING_ACCESS: SendFailure.MISSING_ACCESS,
    DiscordCode.MISSING_PERMISSIONS: SendFailure.MISSING_PERMISSIONS,
    DiscordCode.UNKNOWN_CHANNEL: SendFailure.UNKNOWN_CHANNEL,
    DiscordCode.UNKNOWN_MESSAGE: SendFailure.UNKNOWN_MESSAGE,
    DiscordCode.UNKNOWN_USER: SendFailure.UNKNOWN_USER,
    DiscordCode.UNKNOWN_MEMBER: SendFailure.UNKNOWN_USER,
    DiscordCode.MAX_GUILD_CHANNELS: SendFailure.CHANNEL_LIMIT,
}


def classify(error: discord.HTTPException) -> SendFailure:
    """What a refused request means, from its Discord code, else its HTTP status."""
    if error.code in _BY_CODE:
        return _BY_CODE[error.code]
    if error.code == DiscordCode.INVALID_FORM_BODY:
        if "CHANNEL_PARENT_MAX_CHANNELS" in (error.text or ""):
            return SendFailure.CATEGORY_LIMIT  # a category holds 50 channels
        if "MAX_CHANNELS" in (error.text or ""):
            return SendFailure.CHANNEL_LIMIT
    if isinstance(error, discord.DiscordServerError) or error.status >= 500:
        return SendFailure.SERVER_ERROR
    if error.status == 429:
        return SendFailure.RATE_LIMITED
    if isinstance(error, discord.Forbidden):
        return SendFailure.MISSING_PERMISSIONS
    if isinstance(error, discord.NotFound):
        return SendFailure.NOT_FOUND
    return SendFailure.REJECTED

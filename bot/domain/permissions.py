"""Which server permissions Lantern needs, and how to say what is missing in plain words."""

from __future__ import annotations

from collections.abc import Mapping

# permission flag -> (plain name, why Lantern needs it)
REQUIRED: dict[str, tuple[str, str]] = {
    "view_channel": ("View Channels", "to see the channels it works in"),
    "send_messages": ("Send Messages", "to post introductions, prompts and alerts"),
    "embed_links": ("Embed Links", "to show profiles and introductions as cards"),
    "read_message_history": ("Read Message History", "to keep pair spaces tidy"),
    "manage_channels": ("Manage Channels", "to open a private space for each matched pair"),
    "manage_roles": ("Manage Roles", "to set who can see each private pair space"),
    "create_public_threads": (
        "Create Public Threads",
        "to open a thread for answers under each community reflection prompt",
    ),
    "create_private_threads": (
        "Create Private Threads",
        "to open reflection threads and private fallbacks",
    ),
    "send_messages_in_threads": ("Send Messages in Threads", "to post inside those threads"),
}


def missing_permissions(granted: Mapping[str, bool]) -> list[str]:
    """The required permission flags that ``granted`` lacks, in a stable order."""
    if granted.get("administrator"):
        return []
    return [flag for flag in REQUIRED if not granted.get(flag, False)]


def describe_missing(missing: list[str]) -> str:
    """A short message for moderators listing missing permissions and why they matter."""
    if not missing:
        return "Lantern has every permission it needs here."
    lines = [f"- **{REQUIRED[f][0]}**, {REQUIRED[f][1]}" for f in missing]
    return (
        "Lantern is missing some permissions in this server, so parts of it won't work yet:\n"
        + "\n".join(lines)
        + "\nA server admin can grant them under Server Settings > Roles > Lantern."
    )


def required_permissions_value(flags: Mapping[str, int]) -> int:
    """The permissions integer for the invite link, from Discord's flag values."""
    value = 0
    for flag in REQUIRED:
        value |= flags[flag]
    return value

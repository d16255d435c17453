"""Errors a member or moderator may see. Each carries the message written for them."""

from __future__ import annotations


class UserFacingError(Exception):
    """An error whose message is safe and kind enough to show the person who acted."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ExpiredComponentError(UserFacingError):
    """A button or menu whose state no longer exists."""

    def __init__(self) -> None:
        super().__init__(
            "This card has expired, so nothing changed. "
            "If you still need it, run the command again."
        )


class NotYourComponentError(UserFacingError):
    """Someone clicked a button meant for another person."""

    def __init__(self) -> None:
        super().__init__("This button belongs to someone else, so nothing changed.")


class DatabaseUnavailableError(UserFacingError):
    """The database is busy or unreachable; nothing was changed."""

    def __init__(self) -> None:
        super().__init__(
            "Lantern is temporarily unavailable, so nothing was changed. "
            "Please try again in a minute."
        )


class TryLaterError(Exception):
    """Passing trouble outside Lantern (Discord busy or failing, a rate limit) that stopped
    work which is safe to run again whole; event listeners try it again a little later
    (``bot.gateway.boundary.retrying``). Never shown to anyone."""

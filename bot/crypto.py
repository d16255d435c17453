"""Encryption at rest for free text: Fernet keys from the environment or a key file.

The first key encrypts; every key decrypts, so rotation is: put a new key first, keep the old
ones, run ``python -m bot rotate-key`` to re-encrypt, then drop the old keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class DataKeyError(Exception):
    """A data key is missing or malformed."""


class Cipher:
    """Encrypts and decrypts text with a primary key and any number of older keys."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise DataKeyError("no data keys")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])
        except (ValueError, TypeError) as exc:
            raise DataKeyError(str(exc)) from None
        # One pseudonym key per data key: HMAC-SHA256 keyed from the data key's 32 bytes.
        self._pseudonym_keys = [
            hmac.new(base64.urlsafe_b64decode(k), b"lantern pseudonym v1", hashlib.sha256).digest()
            for k in keys
        ]

    @staticmethod
    def generate_key() -> bytes:
        """A fresh random Fernet key."""
        return Fernet.generate_key()

    def encrypt(self, text: str | None) -> str | None:
        """Ciphertext for ``text`` (``None`` stays ``None``)."""
        if text is None:
            return None
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str | None) -> str | None:
        """Plain text for ``token`` (``None`` stays ``None``)."""
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise DataKeyError(
                "a stored value cannot be decrypted with the configured keys"
            ) from None

    def pseudonyms(self, user_id: int) -> tuple[str, ...]:
        """Keyed one-way hashes of ``user_id``, the primary key's first, then each older key's.

        What Lantern keeps of a member who erased their data where someone else's record must
        still apply to them (a block or report made by another person): HMAC-SHA256 of the id,
        keyed from each data key. It cannot be turned back into the id, and without the data
        key it cannot be checked against a list of ids. A pseudonym made under a key that is
        later dropped no longer matches (a hash cannot be re-keyed): keep retired keys listed
        while such records must still apply.
        """
        message = str(user_id).encode("ascii")
        return tuple(
            hmac.new(key, message, hashlib.sha256).hexdigest() for key in self._pseudonym_keys
        )

    def pseudonym(self, user_id: int) -> str:
        """The pseudonym stored for ``user_id`` now (under the primary key)."""
        return self.pseudonyms(user_id)[0]

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` under the primary key."""
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")


def _read_key_file(path: Path) -> list[bytes]:
    """The keys in ``path``, each checked; ``DataKeyError`` names the file and the line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataKeyError(f"{path}: cannot be read ({exc.strerror})") from None
    keys = [line.strip() for line in raw.splitlines() if line.strip()]
    if not keys:
        raise DataKeyError(f"{path}: the key file is empty; delete it to make a new one")
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise DataKeyError(
                f"{path}: line {number} is not a valid data key (expected 44 characters of "
                "url-safe base64); restore the file from your backup"
            ) from None
    return keys


def load_cipher(env_keys: Sequence[str], key_file: str | os.PathLike[str]) -> Cipher:
    """Keys from the environment if given; otherwise the key file, created on first use."""
    if env_keys:
        return Cipher([k.encode("ascii") for k in env_keys])
    path = Path(key_file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Cipher.generate_key() + b"\n")
    return Cipher(_read_key_file(path))


def check_key_file(key_file: str | os.PathLike[str]) -> str:
    """A one-line description of the key file for ``check-config``; raises ``DataKeyError``."""
    path = Path(key_file)
    if not path.exists():
        return f"key file {path} (created at first start)"
    keys = _read_key_file(path)
    return f"key file {path} ({len(keys)} key{'s' if len(keys) != 1 else ''})"

"""Secrets at rest: a text field stored encrypted with Fernet (AES-128-CBC + HMAC-SHA256).

Keys come from ``FIELD_ENCRYPTION_KEYS``: the first encrypts, every one decrypts, so a key rotates by
putting the new one first, running ``manage.py reencrypt_tokens``, then dropping the old one. With
none set, one key is generated on first use into ``var/field_encryption_key`` (like the embedded
secret key: a single machine only, since each container would make its own).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models
from django.db.models.lookups import Exact
from django.views.decorators.debug import sensitive_variables

KEY_FILE = "field_encryption_key"


class UndecryptableValue(ImproperlyConfigured):
    """A stored value none of the configured keys opens: the key it was written with is missing."""


def _embedded_key(var_dir: Path) -> bytes:
    """The key in var/, written once; a hard link publishes it whole, so two processes agree on one."""
    path = var_dir / KEY_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        draft = var_dir / f"{KEY_FILE}.{os.getpid()}.tmp"
        # Owner-only from the start: the key is never readable by others, not even briefly.
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
            fh.write(Fernet.generate_key())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process won; use its key
        finally:
            draft.unlink()
    return path.read_bytes().strip()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], var_dir: str) -> MultiFernet:
    raw = [k.strip().encode() for k in keys if k.strip()] or [_embedded_key(Path(var_dir))]
    try:
        return MultiFernet([Fernet(k) for k in raw])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be comma-separated Fernet keys (32 url-safe base64-encoded bytes; "
            'make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
        ) from exc


def fernet() -> MultiFernet:
    """The configured keys, read when first needed (never at import)."""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), str(settings.VAR_DIR))


@sensitive_variables()
def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode("ascii")


@sensitive_variables()
def decrypt(stored: str) -> str:
    try:
        return fernet().decrypt(stored.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        source = "" if settings.FIELD_ENCRYPTION_KEYS else f" (unset, so the key in {settings.VAR_DIR / KEY_FILE})"
        raise UndecryptableValue(
            f"A stored API token cannot be decrypted with FIELD_ENCRYPTION_KEYS{source}: add the key it was "
            "encrypted with (after the new one) and run manage.py reencrypt_tokens before removing an old key."
        ) from exc


class _EmptyOnlyExact(Exact):
    """``field=""`` works (is it set?); comparing with a secret cannot, as every save has a fresh IV."""

    def get_prep_lookup(self) -> Any:
        if self.rhs not in ("", None):
            raise FieldError(f"{self.lhs.target.name} is encrypted: it can be compared only with ''.")
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """Plain text in Python, Fernet ciphertext in the column; "" stays "" (meaning "not set").

    Each save encrypts with a fresh IV, so the column cannot be searched: only ``=""`` and ``isnull``.
    """

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return decrypt(value)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        value = super().get_db_prep_value(value, connection, prepared)
        if not value:
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name != "isnull":
            raise FieldError(f"{self.name} is encrypted: it cannot be filtered with '{lookup_name}'.")
        return super().get_lookup(lookup_name)

"""The secret key: the embedded default kept in var/, and what a production key must be. No Django."""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import zlib
from collections import Counter
from pathlib import Path

MIN_LENGTH = 50  # Django's own minimum (security.W009)
MIN_BITS = 128
# Bytes a repeated pattern saves under fixed-code deflate: random keys save at most ~8, "abc…"*2 saves 20.
MAX_REPEAT_SAVING = 16
# Published templates (docker/production.env, Django's startproject) and the words people type instead of a key.
PLACEHOLDERS = ("change-me", "changeme", "change_me", "django-insecure", "replace-me", "your-secret", "secret-key")
HOW_TO_FIX = (
    "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))' and set it as SECRET_KEY "
    "in docker/.env (on a development machine, unset SECRET_KEY to use the key kept in var/)."
)


def embedded_secret_key(var_dir: Path) -> str:
    """The key kept in ``var_dir/secret_key``, generated on first use; web, worker and beat may race for it."""
    path = var_dir / "secret_key"
    with contextlib.suppress(FileNotFoundError):
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    draft = var_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(50))
    try:
        # A hard link appears whole or not at all: no process ever reads a half-written key.
        os.link(draft, path)
    except FileExistsError:
        pass  # another process was first; everyone uses its key
    finally:
        draft.unlink()
    return path.read_text().strip()


def weakness(key: str) -> str | None:
    """Why ``key`` must not sign production sessions (placeholder, short, predictable), or None when it is fine."""
    lowered = key.lower()
    if any(marker in lowered for marker in PLACEHOLDERS):
        return f"SECRET_KEY is a placeholder ({key[:12]}…), published with the code. {HOW_TO_FIX}"
    if len(key) < MIN_LENGTH:
        return f"SECRET_KEY has {len(key)} characters, at least {MIN_LENGTH} are needed. {HOW_TO_FIX}"
    if _shannon_bits(key) < MIN_BITS or _repeat_saving(key) >= MAX_REPEAT_SAVING:
        return f"SECRET_KEY is predictable (few distinct characters or a repeated pattern). {HOW_TO_FIX}"
    return None


def _shannon_bits(key: str) -> float:
    counts = Counter(key)
    return -sum(n * math.log2(n / len(key)) for n in counts.values())


def _repeat_saving(key: str) -> int:
    # Fixed Huffman codes give every character about 8 bits, so only repeats make the output shorter.
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_FIXED)
    data = key.encode()
    return len(data) - len(packer.compress(data) + packer.flush())


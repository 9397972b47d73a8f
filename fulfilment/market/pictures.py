"""The seller's product pictures (``pictures`` of ``GetOfferDTO``): plain files on the Market's image
servers, read without the API token (they are public), capped in size, and only when they are
what they say: a JPEG, PNG or WebP by their first bytes."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from .errors import MarketError

MAX_PICTURE_BYTES = 5 * 1024 * 1024  # the Market's own limit for an offer picture is 10 MB; a packer needs less
SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


@dataclass(frozen=True)
class Picture:
    content: bytes
    content_type: str


class PictureUnavailable(MarketError):
    """The picture could not be read, or what came is not a picture."""


def picture_type(content: bytes) -> str | None:
    """The picture's type from its first bytes, or None for anything else (an HTML error page, a script)."""
    for signature, kind in SIGNATURES:
        if content.startswith(signature):
            return kind
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def fetch_picture(url: str, session: requests.Session | None = None, timeout: float = 15.0) -> Picture:
    """GET one picture URL of the catalogue: no credentials sent, no redirects to other schemes, at most
    ``MAX_PICTURE_BYTES``."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise PictureUnavailable(f"not a web address: {url[:200]}")
    try:
        with (session or requests).get(url, timeout=timeout, stream=True, headers={"Accept": "image/*"}) as resp:
            if resp.status_code != 200:
                raise PictureUnavailable(f"the picture answered {resp.status_code}")
            content = b""
            for chunk in resp.iter_content(64 * 1024):
                content += chunk
                if len(content) > MAX_PICTURE_BYTES:
                    raise PictureUnavailable(f"the picture is over {MAX_PICTURE_BYTES // 1024 // 1024} MB")
    except requests.RequestException as exc:
        raise PictureUnavailable(f"the picture could not be read: {exc.__class__.__name__}") from exc
    kind = picture_type(content)
    if kind is None:
        raise PictureUnavailable("what came is not a JPEG, PNG or WebP picture")
    return Picture(content, kind)

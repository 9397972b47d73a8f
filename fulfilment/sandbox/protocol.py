"""The sandbox's HTTP vocabulary: a parsed request, a response, errors in the Market's shape, and
their translation to and from WSGI."""

from __future__ import annotations

import email.parser
import email.policy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import rules

REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 420: "Enhance Your Calm", 500: "Internal Server Error"}


class ApiError(Exception):
    """An answer other than 200, as the Market words it: ``status: ERROR, errors: [{code, message}]``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors = [{"code": code, "message": message}]
        self.headers = headers or {}

    @classmethod
    def many(cls, errors: list[rules.MarketError]) -> ApiError:
        exc = cls(400, errors[0].code, errors[0].message)
        exc.errors = [e.as_dict() for e in errors]
        return exc


def bad(message: str, code: str = "BAD_REQUEST") -> ApiError:
    return ApiError(400, code, message)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    params: dict[str, int] = field(default_factory=dict)
    business_id: int | None = None

    def q(self, name: str, *aliases: str) -> str | None:
        for key in (name, *aliases):
            if self.query.get(key):
                return self.query[key][0]
        return None

    def qlist(self, name: str) -> list[str]:
        out: list[str] = []
        for v in self.query.get(name, []):
            out.extend(x for x in v.split(",") if x)
        return out


@dataclass
class Response:
    status: int = 200
    body: Any = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadedFile:
    name: str
    content: bytes
    content_type: str


def multipart(content_type: str, raw: bytes) -> dict[str, UploadedFile | str]:
    """A ``multipart/form-data`` body's fields: files as ``UploadedFile``, the rest as text."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    if not message.is_multipart():
        raise bad("The multipart body cannot be read")
    fields: dict[str, UploadedFile | str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            fields[str(name)] = UploadedFile(part.get_filename() or "", content, part.get_content_type())
        elif name:
            fields[str(name)] = content.decode("utf-8", "replace")
    return fields


Handle = Callable[[str, str, str, dict[str, str], bytes], Response]


def serve_wsgi(handle: Handle, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """One WSGI call: the request's parts to ``handle``, its ``Response`` back as bytes (JSON unless bytes)."""
    resp = handle(
        environ["REQUEST_METHOD"],
        environ.get("PATH_INFO", "/"),
        environ.get("QUERY_STRING", ""),
        {**{k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")},
         "content-type": environ.get("CONTENT_TYPE", "")},  # multipart bodies (sendFileToChat)
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)),
    )
    if isinstance(resp.body, bytes | bytearray):
        payload = bytes(resp.body)
    else:
        payload = json.dumps(resp.body, ensure_ascii=False).encode()
    headers = [("Content-Type", resp.content_type), ("Content-Length", str(len(payload)))]
    headers += list(resp.headers.items())
    start_response(f"{resp.status} {REASONS.get(resp.status, 'Unknown')}", headers)
    return [payload]

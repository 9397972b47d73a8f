"""What can go wrong talking to the Market, sorted by what the caller should do about it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiErrorItem:
    """One ``ApiErrorDTO``: the Market's code and message, shown to staff as received."""

    code: str
    message: str = ""

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code


class MarketError(Exception):
    """Base class. ``retryable`` says whether sending the same request later can succeed."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, operation: str = "",
                 errors: tuple[ApiErrorItem, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.operation = operation
        self.errors = errors

    @property
    def messages(self) -> list[str]:
        return [str(e) for e in self.errors] or [str(self)]


class MarketBadRequest(MarketError):
    """400: the Market refused the data; its messages say why. Resending will not help."""


class MarketCredentialsError(MarketError):
    """401/403: the token is missing, wrong, or has no access to this campaign or business."""


class MarketNotFound(MarketError):
    """404: no such order, shipment or box."""


class MarketRateLimited(MarketError):
    """420, or our own limiter: wait ``retry_after`` seconds, then try again."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class MarketUnavailable(MarketError):
    """5xx, timeouts, connection errors: transient, retry with backoff."""

    retryable = True


class MarketProtocolError(MarketError):
    """The answer does not have the documented shape (a bug on one side; not retried)."""

"""Build Partner API clients for the businesses in the database, sharing one rate limiter."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings

from fulfilment.market.client import Credentials, MarketClient
from fulfilment.market.ratelimit import RateLimiter, RedisBackend, SqliteBackend

from .models import Business


@cache
def shared_limiter() -> RateLimiter:
    """Redis when configured (every process and machine), else a SQLite file beside the database."""
    if settings.RATE_LIMIT_REDIS_URL:
        return RateLimiter(RedisBackend(settings.RATE_LIMIT_REDIS_URL))
    return RateLimiter(SqliteBackend(Path(settings.VAR_DIR) / "ratelimit.sqlite3"))


def client_for(business: Business) -> MarketClient:
    return MarketClient(
        Credentials(business.api_token, business.auth_scheme),
        business.api_base_url,
        timeout=settings.MARKET_API_TIMEOUT,
        limiter=shared_limiter(),
    )

"""Django's Redis cache with one client per connection pool, not one per call.

Django's ``RedisCacheClient.get_client`` makes a new ``redis.Redis`` for every read and write, and
each one builds its table of response callbacks: about a tenth of a millisecond a call, twice in
every logged-in request (the session and the user, issue 20). A ``redis.Redis`` on a pool is safe
to share between threads (each command takes a connection from the pool), so one is kept per pool.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache, RedisCacheClient


class SharedClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClient

"""Yandex Market Partner API client: typed requests and responses, errors, rate limits. No Django."""

"""Encrypt every stored Market API token again with the first of FIELD_ENCRYPTION_KEYS (key rotation)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from fulfilment.orders.models import Business


class Command(BaseCommand):
    help = "Re-encrypt the Market API tokens with the first key of FIELD_ENCRYPTION_KEYS; then old keys can go."

    def handle(self, *args: object, **options: object) -> None:
        count = 0
        with transaction.atomic():
            # Reading decrypts with any configured key; saving encrypts with the first.
            for business in Business.objects.select_for_update().exclude(api_token=""):
                business.save(update_fields=["api_token"])
                count += 1
        self.stdout.write(f"Re-encrypted {count} API token(s) with the first key of FIELD_ENCRYPTION_KEYS.")

"""Packing photos in S3-compatible storage (production: MinIO in docker/compose.yaml), through the real
django-storages S3 backend over HTTP. moto's S3 server stands in for MinIO: there is no MinIO binary or
Docker engine here, and both speak the S3 protocol. The storage settings are the ones the settings module
makes from the environment that compose gives the containers; nothing is hand-written for the test."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from fulfilment.orders.evidence import prune_photos, store_photo
from fulfilment.orders.models import PackingPhoto
from fulfilment.sandbox.return_files import photo_png
from tests.returns_support import control
from tests.test_returns_receiving import packed_and_delivered, returned
from tests.test_settings import CONFIG_VARS

ROOT = Path(__file__).resolve().parent.parent
PNG = photo_png("evidence in S3", 320, 240)
BUCKET = "fulfilment-media"
KEYS = {"S3_ACCESS_KEY_ID": "fulfilment", "S3_SECRET_ACCESS_KEY": "test-secret-key-for-moto"}
SHOW_STORAGE = ("import django, json; django.setup(); from django.conf import settings as s; "
                "print(json.dumps(s.STORAGES['default']))")


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    """An S3-compatible HTTP server on a free loopback port, for this module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def storage_from_environment(tmp_path: Path, **env: str) -> dict:
    """STORAGES["default"] as settings.py makes it from this environment (in a fresh process)."""
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS and not k.startswith("S3_")}
    clean.update({"DJANGO_SETTINGS_MODULE": "fulfilment.settings", "FULFILMENT_VAR_DIR": str(tmp_path / "var"), **env})
    out = subprocess.run([sys.executable, "-c", SHOW_STORAGE], cwd=ROOT, env=clean, capture_output=True, text=True,
                         timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def bucket(s3_url, settings, tmp_path):
    """The bucket (made as compose's one-shot makes it), and the dashboard's default storage in it."""
    s3 = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1",
                      aws_access_key_id=KEYS["S3_ACCESS_KEY_ID"], aws_secret_access_key=KEYS["S3_SECRET_ACCESS_KEY"])
    s3.create_bucket(Bucket=BUCKET)
    settings.MEDIA_ROOT = str(tmp_path / "media")  # must stay empty: nothing goes to disk
    in_bucket = storage_from_environment(tmp_path, S3_BUCKET=BUCKET, S3_ENDPOINT_URL=s3_url, **KEYS)
    settings.STORAGES = {**settings.STORAGES, "default": in_bucket}
    yield s3
    for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=obj["Key"])
    s3.delete_bucket(Bucket=BUCKET)


def _keys(s3) -> list[str]:
    return sorted(obj["Key"] for obj in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def _upload(client, order):
    return client.post(reverse("order-photo", args=[order.pk]),
                       {"image": SimpleUploadedFile("box.png", PNG, "image/png"), "box": "1", "reason": "FINISH"})


def test_with_no_bucket_set_files_stay_on_disk(tmp_path):
    assert storage_from_environment(tmp_path) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_a_bucket_set_selects_the_s3_backend_with_its_address_and_keys(tmp_path):
    storage = storage_from_environment(tmp_path, S3_BUCKET=BUCKET, S3_ENDPOINT_URL="http://minio:9000", **KEYS)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"]) == (BUCKET, "http://minio:9000")
    assert (options["access_key"], options["secret_key"]) == tuple(KEYS.values())
    assert options["addressing_style"] == "path" and options["default_acl"] is None
    assert options["querystring_auth"] is True and options["file_overwrite"] is False


def test_a_photo_is_stored_in_the_bucket_served_by_the_dashboard_and_pruned(client, packer, market, bucket, settings,
                                                                             tmp_path):
    order, _ = packed_and_delivered(market, packer)
    client.force_login(packer)
    resp = _upload(client, order)
    assert resp.status_code == 201, resp.content
    photo = PackingPhoto.objects.get(pk=resp.json()["id"])
    assert type(default_storage._wrapped).__name__ == "S3Storage"
    # In the bucket, over HTTP, byte for byte; nothing on disk.
    assert _keys(bucket) == [photo.image.name]
    assert bucket.get_object(Bucket=BUCKET, Key=photo.image.name)["Body"].read() == PNG
    assert not (tmp_path / "media").exists()

    # Served by the dashboard from the bucket (same origin: the CSP's img-src 'self' holds), to staff only.
    shown = client.get(reverse("photo", args=[photo.pk]))
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert b"".join(shown.streaming_content) == PNG
    page = client.get(reverse("order", args=[order.pk]))
    assert f'src="{reverse("photo", args=[photo.pk])}"' in page.content.decode()
    assert "img-src 'self' data:" in page["Content-Security-Policy"]
    assert settings.STORAGES["default"]["OPTIONS"]["endpoint_url"] not in page.content.decode()
    assert shown["Cache-Control"] == "private, max-age=3600"
    client.logout()
    assert client.get(reverse("photo", args=[photo.pk])).status_code == 302

    # Pruned: the row and the object in the bucket go together; a newer photo stays.
    settings.EVIDENCE_PHOTO_DAYS = 30
    client.force_login(packer)
    newer = PackingPhoto.objects.get(pk=_upload(client, order).json()["id"])
    PackingPhoto.objects.filter(pk=photo.pk).update(taken_at=timezone.now() - dt.timedelta(days=31))
    assert prune_photos() == 1
    assert list(PackingPhoto.objects.all()) == [newer]
    assert _keys(bucket) == [newer.image.name]

    # An object removed from the bucket by hand: its page says 404, nothing breaks.
    bucket.delete_object(Bucket=BUCKET, Key=newer.image.name)
    assert client.get(reverse("photo", args=[newer.pk])).status_code == 404


def test_a_photo_in_the_bucket_goes_to_the_orders_chat(client, packer, supervisor, market, bucket):
    order, _ = packed_and_delivered(market, packer)
    record = returned(market, order)
    client.force_login(packer)
    assert _upload(client, order).status_code == 201
    client.force_login(supervisor)
    resp = client.post(reverse("return-photos-chat", args=[record.pk]), follow=True)
    assert "отправлены в чат" in resp.content.decode()
    chat = next(c for c in control(market, "GET", "/chats")["chats"] if c["orderId"] == order.market_id)
    got = requests.get(f"{market.url}/_sandbox/chat-files/{chat['chatId']}/1", timeout=10)
    assert got.content == PNG


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_photo_in_the_bucket_shows_in_chromium_under_the_csp(page, live_server, market, packer, bucket):
    """The page fixture fails the test on any Content-Security-Policy violation."""
    from .test_browser_packing import login

    order, _ = packed_and_delivered(market, packer)
    photo = store_photo(order, PNG, 1, "FINISH", packer)  # as the camera's upload stores it
    assert _keys(bucket) == [photo.image.name]
    login(page, live_server)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    assert page.evaluate("document.querySelector('#packing-photos img').naturalWidth") == 320

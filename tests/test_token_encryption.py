"""The Market API tokens are encrypted at rest, keys rotate, and no error page or repr shows a token."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory
from django.urls import reverse
from django.views.debug import ExceptionReporter

from fulfilment.orders.encryption import KEY_FILE, UndecryptableValue
from fulfilment.orders.models import Business

from .builders import make_business

pytestmark = pytest.mark.django_db
SECRET = "ACMA:very-secret-market-token:9c1e"
ROOT = Path(__file__).resolve().parent.parent


def stored(business: Business) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_token FROM orders_business WHERE id = %s", [business.pk])
        return cursor.fetchone()[0]


def test_the_column_holds_no_plain_token(db):
    business = make_business(api_token=SECRET)
    raw = stored(business)
    assert SECRET not in raw and "very-secret" not in raw
    assert raw.startswith("gAAAAA")
    assert Business.objects.get(pk=business.pk).api_token == SECRET


def test_a_bulk_update_encrypts_too(db):
    business = make_business(api_token="old")
    Business.objects.filter(pk=business.pk).update(api_token=SECRET)
    assert SECRET not in stored(business)
    assert Business.objects.get(pk=business.pk).api_token == SECRET


def test_an_empty_token_stays_empty_and_can_be_asked_for(db):
    business = make_business(api_token="")
    assert stored(business) == ""
    assert list(Business.objects.filter(api_token="")) == [business]
    assert not Business.objects.exclude(api_token="").exists()


def test_looking_a_token_up_is_refused_rather_than_never_matching(db):
    make_business(api_token=SECRET)
    with pytest.raises(FieldError, match="encrypted"):
        Business.objects.filter(api_token=SECRET).exists()
    with pytest.raises(FieldError, match="encrypted"):
        Business.objects.filter(api_token__startswith="ACMA").exists()


def test_keys_rotate_new_first_then_reencrypt_then_drop_the_old(db, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    business = make_business(api_token=SECRET)
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert Business.objects.get(pk=business.pk).api_token == SECRET
    call_command("reencrypt_tokens", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert Business.objects.get(pk=business.pk).api_token == SECRET
    assert Fernet(new.encode()).decrypt(stored(business).encode()).decode() == SECRET


def test_a_wrong_key_gives_an_error_naming_the_setting_not_garbage(db, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    business = make_business(api_token=SECRET)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(UndecryptableValue, match="FIELD_ENCRYPTION_KEYS") as excinfo:
        Business.objects.get(pk=business.pk)
    assert SECRET not in str(excinfo.value)


def test_a_malformed_key_names_the_setting(db, settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        make_business(api_token=SECRET)


def test_without_keys_one_is_generated_into_var_once_and_kept(db, settings, tmp_path):
    settings.FIELD_ENCRYPTION_KEYS = []
    settings.VAR_DIR = tmp_path
    business = make_business(api_token=SECRET)
    key_file = tmp_path / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_bytes()
    assert Fernet(key).decrypt(stored(business).encode()).decode() == SECRET
    make_business(api_token="another")
    assert key_file.read_bytes() == key
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE]


def test_loading_the_settings_and_models_writes_no_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("FIELD_ENCRYPTION_KEYS", "FULFILMENT_VAR_DIR")}
    env.update({"DJANGO_SETTINGS_MODULE": "fulfilment.settings", "FULFILMENT_VAR_DIR": str(tmp_path)})
    code = "import django; django.setup(); import fulfilment.orders.models, fulfilment.urls"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60, capture_output=True)
    assert not (tmp_path / KEY_FILE).exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_plain_tokens_and_reverses():
    executor = MigrationExecutor(connection)
    before, after = [("orders", "0008_notifications")], [("orders", "0009_business_api_token_encrypted")]
    try:
        executor.migrate(before)
        # The model as it was before the migration (plain text token), whatever columns came since.
        old_business = executor.loader.project_state(before).apps.get_model("orders", "Business")
        old_business.objects.create(market_id=7, name="Old", api_base_url="https://x", api_token=SECRET)
        old_business.objects.create(market_id=8, name="No token", api_base_url="https://x", api_token="")
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        old = Business.objects.get(market_id=7)
        assert old.api_token == SECRET
        assert SECRET not in stored(old)
        assert Business.objects.get(market_id=8).api_token == ""
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        with connection.cursor() as cursor:
            cursor.execute("SELECT api_token FROM orders_business WHERE market_id = 7")
            assert cursor.fetchone()[0] == SECRET
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


# --- never shown -----------------------------------------------------------------------------------
def _report(request, debug, settings):
    settings.DEBUG = debug
    business = Business.objects.get()
    token = business.api_token
    headers = {"Api-Key": token}
    try:
        raise RuntimeError(f"the Market refused business {business.pk}")
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
        assert headers and token  # kept alive in the frame the report shows
        return reporter.get_traceback_html() + reporter.get_traceback_text()


@pytest.mark.parametrize("debug", [False, True])
def test_error_reports_never_show_the_token(db, settings, debug):
    make_business(api_token=SECRET)
    request = RequestFactory().post("/admin/orders/business/1/change/", {"name": "Shop", "api_token": SECRET})
    report = _report(request, debug, settings)
    assert "the Market refused business" in report
    assert SECRET not in report
    assert "very-secret" not in report


def test_repr_str_and_admin_pages_never_show_the_token(client, admin_user):
    business = make_business(api_token=SECRET)
    assert SECRET not in repr(business) + str(business)
    client.force_login(admin_user)
    for url in (reverse("admin:orders_business_change", args=[business.pk]),
                reverse("admin:orders_business_changelist"),
                reverse("admin:orders_business_history", args=[business.pk])):
        html = client.get(url).content.decode()
        assert SECRET not in html and stored(business) not in html

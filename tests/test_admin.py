"""Django admin: every model's pages open, search works, and the API token is never shown back."""

import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfilment.market.client import Credentials, MarketClient
from fulfilment.orders.models import AuditEvent, Box, BoxLine, Business, CatalogueOffer, Instance, ProductBarcode

from .builders import make_business, make_campaign, make_order

pytestmark = pytest.mark.django_db
SECRET = "ACMA:super-secret-token-value:7f3a"


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def order():
    business = make_business(api_token=SECRET)
    order = make_order(make_campaign(business), items=(("SHOES-42", 1), ("MUG", 2)), raw={"orderId": 1, "x": "y"})
    box = Box.objects.create(order=order, number=1)
    item = order.items.first()
    BoxLine.objects.create(box=box, item=item, full_count=1)
    Instance.objects.create(order=order, item=item, unit=1, kind="UIN", value="1234567890123456", box=box)
    AuditEvent.objects.create(order=order, action="scan", payload={"code": "1234567890123456"})
    ProductBarcode.objects.create(campaign=order.campaign, gtin="04601234567893", offer_id="SHOES-42",
                                  source=ProductBarcode.Source.CATALOGUE)
    CatalogueOffer.objects.create(business=business, offer_id="SHOES-42", barcodes=["4601234567893"],
                                  fetched_at=timezone.now())
    return order


@pytest.mark.parametrize("model", ["business", "campaign", "order", "orderitem", "box", "instance", "auditevent",
                                   "productbarcode", "catalogueoffer", "marketreturn", "packingphoto"])
def test_every_changelist_opens(admin_client, order, model):
    resp = admin_client.get(reverse(f"admin:orders_{model}_changelist"))
    assert resp.status_code == 200


@pytest.mark.parametrize("model", ["business", "campaign", "order", "orderitem", "box", "instance", "auditevent",
                                   "productbarcode", "catalogueoffer"])
def test_every_change_page_opens(admin_client, order, model):
    from django.apps import apps

    obj = apps.get_model("orders", model).objects.first()
    resp = admin_client.get(reverse(f"admin:orders_{model}_change", args=[obj.pk]))
    assert resp.status_code == 200


def test_orders_are_found_by_number_sku_and_name(admin_client, order):
    url = reverse("admin:orders_order_changelist")
    for term in (str(order.market_id), "SHOES-42", "Item MUG"):
        resp = admin_client.get(url, {"q": term})
        assert resp.context["cl"].result_count == 1, term


def test_the_raw_payload_is_read_only(admin_client, order):
    resp = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    html = resp.content.decode()
    assert 'name="raw"' not in html
    assert "&quot;x&quot;: &quot;y&quot;" in html or '"x": "y"' in html


def test_the_token_is_never_rendered_back(admin_client, order):
    business = order.campaign.business
    for url in (reverse("admin:orders_business_change", args=[business.pk]),
                reverse("admin:orders_business_changelist"),
                reverse("admin:orders_campaign_change", args=[order.campaign.pk])):
        html = admin_client.get(url).content.decode()
        assert SECRET not in html
        assert "super-secret" not in html


def _business_form(business, **changes):
    data = {"market_id": business.market_id, "name": business.name, "is_active": "on",
            "api_base_url": business.api_base_url, "auth_scheme": "API_KEY", "api_token": "",
            "credentials_error": "", "campaigns-TOTAL_FORMS": "0", "campaigns-INITIAL_FORMS": "0"}
    data.update(changes)
    return data


def test_saving_without_a_token_keeps_the_saved_one(admin_client, order):
    business = order.campaign.business
    resp = admin_client.post(reverse("admin:orders_business_change", args=[business.pk]),
                             _business_form(business, name="Renamed"))
    assert resp.status_code == 302
    business.refresh_from_db()
    assert business.name == "Renamed"
    assert business.api_token == SECRET


def test_a_new_token_replaces_the_old_one_and_can_be_cleared(admin_client, order):
    business = order.campaign.business
    url = reverse("admin:orders_business_change", args=[business.pk])
    admin_client.post(url, _business_form(business, api_token="new-token"))
    business.refresh_from_db()
    assert business.api_token == "new-token"
    admin_client.post(url, _business_form(business, clear_token="on"))
    business.refresh_from_db()
    assert business.api_token == ""


def test_the_token_stays_out_of_reprs_and_logs(order, sandbox, caplog):
    business = Business.objects.get(pk=order.campaign.business_id)  # the column is encrypted: no lookup by token
    assert business.api_token == SECRET
    assert SECRET not in str(business) + repr(business)
    client = MarketClient(Credentials(SECRET), sandbox.url)
    assert SECRET not in repr(client)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Exception):  # noqa: B017 - the sandbox refuses the unknown key; we look at the logs
        client.get_campaigns()
    assert SECRET not in caplog.text


def test_a_barcode_link_corrected_in_the_admin_is_a_persons_and_is_in_the_audit_trail(admin_client, order,
                                                                                         admin_user):
    wrong = ProductBarcode.objects.create(campaign=order.campaign, gtin="04650117240408", offer_id="SHOES-42",
                                          source=ProductBarcode.Source.LEARNT)
    listing = admin_client.get(reverse("admin:orders_productbarcode_changelist"), {"q": "04650117240408"})
    assert b"SHOES-42" in listing.content
    url = reverse("admin:orders_productbarcode_change", args=[wrong.pk])
    resp = admin_client.post(url, {"offer_id": "MILK-1L"})
    assert resp.status_code == 302, resp.content[:2000]
    wrong.refresh_from_db()
    assert (wrong.offer_id, wrong.source, wrong.learnt_by) == ("MILK-1L", ProductBarcode.Source.CONFIRMED, admin_user)
    event = AuditEvent.objects.get(action="barcode.corrected")
    assert event.payload == {"campaign": order.campaign.market_id, "gtin": "04650117240408", "from": "SHOES-42",
                             "to": "MILK-1L"} and event.user == admin_user

    admin_client.post(reverse("admin:orders_productbarcode_changelist"),
                      {"action": "unlink", "_selected_action": [wrong.pk]})
    wrong.refresh_from_db()
    assert wrong.offer_id == "" and AuditEvent.objects.filter(action="barcode.corrected").count() == 2

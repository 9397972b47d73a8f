"""The Market's check of the codes, mirrored per code: a check keeps every other change's version bump."""

import pytest
import requests
from django.db.models import F

from fulfilment.market.types import BoxLine, Instance as RemoteInstance
from fulfilment.orders import sync, verification
from fulfilment.orders.models import Instance, InstanceKind, Order, Verification
from fulfilment.sandbox import seed

from .builders import make_business, make_campaign

pytestmark = pytest.mark.django_db
UIN = "1234567890123456"


@pytest.fixture
def sent(sandbox):
    """An FBS order whose layout with a UIN the Market is checking, and the code here."""
    placed = sandbox.place([("RING-585", 1)])
    business = make_business(market_id=seed.DEMO_BUSINESS_ID, api_base_url=sandbox.url, api_token=seed.DEMO_API_KEY)
    make_campaign(business, market_id=seed.FBS_CAMPAIGN_ID)
    sync.sync_business(business.pk, client=sandbox.client())
    order = Order.objects.get(market_id=placed["orderId"])
    item = order.items.get()
    sandbox.client().set_order_box_layout(seed.FBS_CAMPAIGN_ID, order.market_id, [
        [BoxLine(item.market_item_id, full_count=1, instances=(RemoteInstance(uin=UIN),))]])
    Instance.objects.create(order=order, item=item, unit=1, kind=InstanceKind.UIN, value=UIN, identity=UIN)
    return order


def test_it_records_each_codes_state_and_bumps_the_version(sandbox, sent):
    before = sent.version
    assert verification.check_identifiers(sent.pk, client=sandbox.client()) is False
    sent.refresh_from_db()
    assert sent.version == before + 1 and sent.identifiers_checked_at is not None
    assert Instance.objects.get(order=sent).verification == Verification.OK


def test_a_change_committed_while_the_market_answers_keeps_its_version_bump(sandbox, sent):
    """The order screen trusts the version to know whether anything changed since it last drew the
    order: a packer's scan committed between the check's read and its write must not be lost."""
    session = requests.Session()

    def a_packers_scan_meanwhile(response: requests.Response, *args: object, **kwargs: object) -> None:
        if response.url.endswith("/identifiers/status"):
            Order.objects.filter(pk=sent.pk).update(version=F("version") + 1)

    session.hooks["response"].append(a_packers_scan_meanwhile)
    before = Order.objects.get(pk=sent.pk).version
    verification.check_identifiers(sent.pk, client=sandbox.client(session=session))
    assert Order.objects.get(pk=sent.pk).version == before + 2  # the scan's bump and the check's


def test_a_code_rescanned_while_the_market_answers_does_not_take_the_old_codes_result(sandbox, sent):
    session = requests.Session()

    def a_rescan_meanwhile(response: requests.Response, *args: object, **kwargs: object) -> None:
        if response.url.endswith("/identifiers/status"):
            Instance.objects.filter(order=sent).update(value="6543210987654321", identity="6543210987654321")

    session.hooks["response"].append(a_rescan_meanwhile)
    assert verification.check_identifiers(sent.pk, client=sandbox.client(session=session)) is True  # not there yet
    assert Instance.objects.get(order=sent).verification == Verification.NOT_SENT

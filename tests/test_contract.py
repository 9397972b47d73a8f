"""Every request the client sends and every response the sandbox returns validate against the
official spec (``MARKET_OPENAPI_SPEC``), across the order, shipment and document operations and
the error answers."""

import datetime as dt
import os
import random
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import yaml

from fulfilment.market.chats import ChatContext, ChatContextType
from fulfilment.market.documents import LabelsSorting, PalletLabelFormat, ReportStatus
from fulfilment.market.errors import MarketBadRequest, MarketCredentialsError, MarketNotFound, MarketRateLimited
from fulfilment.market.limits import LIMITS
from fulfilment.market.notification_values import ReturnShipmentStatus
from fulfilment.market.returns import DecisionType, ItemDecision, ReturnsFilter
from fulfilment.market.shipments import ShipmentConfirmation, ShipmentsFilter, ShipmentStatus
from fulfilment.market.types import (
    BoxLine,
    CancellationReason,
    DigitalItem,
    Instance,
    OrdersFilter,
    PageFormat,
    PartialCount,
)
from fulfilment.sandbox import seed
from fulfilment.sandbox.clock import MSK
from tests.returns_support import buyer_returns, shipped_with_codes, travel

pytestmark = pytest.mark.contract
SPEC = os.environ.get("MARKET_OPENAPI_SPEC")
if not SPEC:
    pytest.skip("MARKET_OPENAPI_SPEC is not set: contract tests need the official spec (CI always sets it)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def spec_dict() -> dict:
    return yaml.safe_load(Path(SPEC).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def openapi(spec_dict):
    from openapi_core import OpenAPI

    local = dict(spec_dict)
    # The sandbox listens on a random local port; the paths and schemas are the official ones.
    local["servers"] = [{"url": "http://127.0.0.1:{port}", "variables": {"port": {"default": "80"}}}]
    return OpenAPI.from_dict(local)


class ValidatingSession(requests.Session):
    """Checks each exchange against the spec; any mismatch fails the test at the call site."""

    def __init__(self, openapi) -> None:
        super().__init__()
        self.openapi = openapi
        self.checked: list[tuple[str, str, int]] = []

    def send(self, request, **kwargs):
        from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

        response = super().send(request, **kwargs)
        if request.path_url.startswith("/_sandbox/"):  # a report file's link: storage, not the Partner API
            return response
        wrapped = RequestsOpenAPIRequest(request)
        try:
            self.openapi.validate_request(wrapped)
        except Exception as exc:
            raise AssertionError(f"request {request.method} {request.url} breaks the spec: {exc!r} "
                                 f"{getattr(exc, '__cause__', '')}") from exc
        try:
            self.openapi.validate_response(wrapped, RequestsOpenAPIResponse(response))
        except Exception as exc:
            raise AssertionError(f"response {response.status_code} to {request.method} {request.url} breaks the "
                                 f"spec: {exc!r} {getattr(exc, '__cause__', '')} {response.text[:500]}") from exc
        self.checked.append((request.method, request.path_url, response.status_code))
        return response


def test_the_limits_table_matches_the_spec(spec_dict):
    found = {}
    for ops in spec_dict["paths"].values():
        for method, op in ops.items():
            if method == "parameters":
                continue
            cfg = op["x-resource-limit-config"]
            base = cfg["none"]
            period = {"hours": 3600, "minutes": 60}[base["period"]] * base["period-duration"]
            found[op["operationId"]] = (base["amount"], period, cfg.get("parallel-limit-value"),
                                        cfg.get("path") == "resp.result.orders")
    ours = {name: (lim.amount, lim.period, lim.parallel, lim.counts_orders) for name, lim in LIMITS.items()}
    # Every operation the client calls is in the spec with these limits; the spec's others are not used yet.
    assert ours == {name: found.get(name) for name in ours}


def test_every_operation_and_error_answer_follows_the_spec(sandbox, openapi):
    rng = random.Random(11)
    session = ValidatingSession(openapi)
    client = sandbox.client(session=session)
    fbs, dbs, biz = seed.FBS_CAMPAIGN_ID, seed.DBS_CAMPAIGN_ID, seed.DEMO_BUSINESS_ID
    sandbox.seeder.demo()

    client.get_campaigns()
    client.get_campaign(fbs)
    pages = list(client.iter_business_orders(biz, OrdersFilter(statuses=("PROCESSING",)), limit=5))
    orders = [o for p in pages for o in p.orders]
    client.get_business_orders(biz, OrdersFilter(updated_from=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
                                                 waiting_for_cancellation_approve=False, fake=False))
    client.get_orders(fbs, statuses=("PROCESSING",), updated_from=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
    client.get_orders(dbs, only_waiting_for_cancellation_approve=True)

    def pick(offer, campaign=fbs, buyer=None):
        return next(o for o in orders if o.items[0].offer_id == offer and o.campaign_id == campaign
                    and o.substatus == "STARTED" and (buyer is None or o.buyer_type == buyer))

    # FBS: a split item, codes, checks, ready to ship, labels.
    ac = pick("AC-SPLIT-9")
    client.get_order(fbs, ac.id)
    boxes = client.set_order_box_layout(fbs, ac.id, [[BoxLine(ac.items[0].id, partial=PartialCount(1, 2))],
                                                     [BoxLine(ac.items[0].id, partial=PartialCount(2, 2))]])
    client.get_order_identifiers_status(fbs, ac.id)
    client.update_order_status(fbs, ac.id, "PROCESSING", "READY_TO_SHIP")
    client.generate_order_labels(fbs, ac.id, PageFormat.A9_HORIZONTALLY)
    client.generate_order_label(fbs, ac.id, ac.shipment.id, boxes[0].box_id, PageFormat.A4)
    client.get_order_labels_data(fbs, ac.id)
    client.get_order_buyer_info(fbs, ac.id)

    shoes = pick("SHOES-RUN-42", buyer="BUSINESS")
    lines = [BoxLine(i.id, full_count=i.count, instances=tuple(
        Instance(cis=seed.make_cis(seed.CATALOG[i.offer_id], rng)) for _ in range(i.count))) for i in shoes.items]
    client.set_order_box_layout(fbs, shoes.id, [lines])
    client.get_order_identifiers_status(fbs, shoes.id)
    mug = pick("MUG-001")
    client.set_order_box_layout(fbs, mug.id, [[BoxLine(i.id, full_count=i.count) for i in mug.items]])
    client.update_external_order_id(fbs, mug.id, "SHOP-1001")
    assert client.get_order(fbs, mug.id).external_order_id == "SHOP-1001"  # echoed in both order shapes
    assert client.get_business_orders(biz, OrdersFilter(order_ids=(mug.id,))).orders[0].external_order_id
    client.update_order_statuses(fbs, [(mug.id, "PROCESSING", "READY_TO_SHIP"), (shoes.id, "PROCESSING", "SHIPPED")])

    # DBS: codes, items, cargo places, cancellation, digital keys, recipient change.
    notebook = pick("NOTEBOOK-A5", dbs)
    client.update_order_items(dbs, notebook.id, {notebook.items[0].id: 1, notebook.items[1].id: 1})
    tshirt = pick("TSHIRT-M", dbs)
    client.provide_order_item_identifiers(dbs, tshirt.id, {tshirt.items[0].id: [
        Instance(cis=seed.make_cis(seed.CATALOG["TSHIRT-M"], rng)), Instance(cis=seed.make_cis(
            seed.CATALOG["TSHIRT-M"], rng))]})
    client.set_order_shipment_boxes(dbs, tshirt.id, tshirt.shipment.id, 2)
    with pytest.raises(MarketBadRequest):  # updateOrder is the LaaS model's
        client.update_order(dbs, tshirt.id, customer={"firstName": "Анна", "lastName": "Петрова",
                                                      "phone": "+79990001122"})
    laas = sandbox.place([("MUG-001", 1)], campaign_id=seed.LAAS_CAMPAIGN_ID, program="LAAS", delivery_type="DELIVERY")
    client.update_order(seed.LAAS_CAMPAIGN_ID, laas["orderId"], customer={
        "firstName": "Анна", "lastName": "Петрова", "phone": "+79990001122"},
        delivery_dates=(dt.date(2026, 12, 1), dt.date(2026, 12, 2)), delivery_times=("10:00", "14:00"))
    waiting = next(p for p in client.get_orders(dbs, only_waiting_for_cancellation_approve=True).orders)
    client.accept_order_cancellation(dbs, waiting.id, False, CancellationReason.ORDER_IN_DELIVERY)
    game = next(o for o in orders if o.delivery_type == "DIGITAL")
    client.provide_order_digital_codes(dbs, game.id, [DigitalItem(game.items[0].id, ("KEY-1",), "Ключ",
                                                                  dt.date(2027, 1, 1))])
    client.update_order_status(fbs, pick("TEA-GREEN-100").id, "CANCELLED", "SHOP_FAILED")
    list(client.iter_orders_stats(fbs, dt.date.today() - dt.timedelta(days=29), dt.date.today()))

    # The catalogue: the barcodes of the SKUs in the orders.
    offers = list(client.iter_offer_mappings(biz, [i.offer_id for o in orders for i in o.items]))
    assert offers and all(o.offer_id for o in offers)
    exercise_shipments(sandbox, client, [ac.id, mug.id], pick("RING-585").id)
    exercise_returns(sandbox, client)

    # Error answers keep the documented shape too.
    with pytest.raises(MarketBadRequest):
        client.set_order_box_layout(fbs, pick("WARDROBE-3").id, [[BoxLine(pick("WARDROBE-3").items[0].id,
                                                                          full_count=1)]])
    with pytest.raises(MarketNotFound):
        client.get_order_labels_data(fbs, 1)
    with pytest.raises(MarketCredentialsError):
        sandbox.client("wrong-key", session=session).get_campaign(fbs)
    sandbox.store.set_setting("limit:getOrderBuyerInfo", 1)
    with pytest.raises(MarketRateLimited):
        client.get_order_buyer_info(fbs, mug.id)
    anonymous = requests.Request("GET", f"{sandbox.url}/v2/campaigns/{fbs}").prepare()
    assert session.send(anonymous).status_code == 401

    operations = {r["operation"] for r in sandbox.store.received()}
    assert operations == set(LIMITS), set(LIMITS) - operations
    statuses = {code for _, _, code in session.checked}
    assert statuses >= {200, 400, 401, 403, 404, 420}
    assert len(session.checked) == len(sandbox.store.received())


def exercise_shipments(sandbox, client, ready_ids, late_id):
    """Today's shipment of the FBS shop through its day: before the cutoff, after it, accepted, finished."""
    fbs, biz = seed.FBS_CAMPAIGN_ID, seed.DEMO_BUSINESS_ID
    today = dt.datetime.now(MSK).date()

    def clock(hhmm):
        moment = dt.datetime.combine(today, dt.time.fromisoformat(hhmm), MSK)
        requests.post(f"{sandbox.url}/_sandbox/clock", json={"at": moment.isoformat()}, timeout=5).raise_for_status()

    clock("08:00")
    found = list(client.iter_shipments(fbs, ShipmentsFilter(today, today + dt.timedelta(days=1))))
    client.search_shipments(fbs, ShipmentsFilter(today, today, statuses=(ShipmentStatus.OUTBOUND_CREATED,),
                                                 order_ids=tuple(ready_ids), cancelled_orders=False), limit=1)
    shipment = next(s for s in found if set(ready_ids) <= set(s.order_ids))
    client.get_shipment(fbs, shipment.id, cancelled_orders=False)
    client.get_shipment_orders_info(fbs, shipment.id)
    client.transfer_orders_from_shipment(fbs, shipment.id, [late_id])
    client.set_shipment_pallets_count(fbs, shipment.id, 2)
    client.download_shipment_pallet_labels(fbs, shipment.id, PalletLabelFormat.A4)
    client.download_shipment_pallet_labels(fbs, shipment.id)
    labels = client.generate_mass_order_labels_report(biz, ready_ids, PageFormat.A9, LabelsSorting.SORT_BY_GIVEN_ORDER)
    assembly = client.generate_shipment_list_document_report(fbs, shipment.id)
    client.generate_shipment_list_document_report(fbs, order_ids=ready_ids)
    assert client.get_report_info(labels.report_id).status == ReportStatus.PENDING
    with pytest.raises(MarketBadRequest):  # before the cutoff
        client.confirm_shipment(fbs, shipment.id)

    clock("11:00")
    client.confirm_shipment(fbs, shipment.id, ShipmentConfirmation("OUR-7", "ivan.petrov"))
    client.download_shipment_act(fbs, shipment.id)
    client.download_shipment_reception_transfer_act(fbs, signatory="ivan.petrov")
    for info in (client.get_report_info(labels.report_id), client.get_report_info(assembly.report_id)):
        assert info.status == ReportStatus.DONE
        assert client.download_report_file(info).startswith(b"%PDF")

    sandbox_shipment = f"{sandbox.url}/_sandbox/shipments/{shipment.id}"
    requests.post(sandbox_shipment, json={"status": "ACCEPTED_WITH_DISCREPANCIES", "type": "WITHDRAW"},
                  timeout=5).raise_for_status()
    client.download_shipment_discrepancy_act(fbs, shipment.id)
    client.download_shipment_transportation_waybill(fbs, shipment.id)
    requests.post(sandbox_shipment, json={"status": "FINISHED"}, timeout=5).raise_for_status()
    client.download_shipment_inbound_act(fbs, shipment.id)
    with pytest.raises(MarketNotFound):
        client.get_shipment(fbs, 1)


def exercise_returns(sandbox, client):
    """A delivered order comes back with photos; its application, photos, decisions and chats."""
    fbs, biz = seed.FBS_CAMPAIGN_ID, seed.DEMO_BUSINESS_ID
    order, _ = shipped_with_codes(sandbox, client)
    ret = buyer_returns(sandbox, order["orderId"], [{"offerId": "SHOES-RUN-42", "count": 1, "reason": "WRONG_ITEM",
                                                     "comment": "Пришла другая модель", "photos": 2}])
    unredeemed, _ = shipped_with_codes(sandbox, client, delivered=False)
    buyer_returns(sandbox, unredeemed["orderId"], kind="UNREDEEMED")
    travel(sandbox, ret["id"], "RECEIVED", "IN_TRANSIT", "READY_FOR_PICKUP")
    page = client.get_returns(fbs, ReturnsFilter(order_ids=(order["orderId"],),  # the demo's returns aside
                                                 shipment_statuses=(ReturnShipmentStatus.READY_FOR_PICKUP,),
                                                 updated_from=dt.date.today() - dt.timedelta(days=1)), limit=1)
    assert [r.id for r in page.returns] == [ret["id"]] and page.returns[0].pickup_till is not None
    assert len(list(client.iter_returns(fbs, ReturnsFilter(order_ids=(order["orderId"], unredeemed["orderId"]))))) == 2
    found = client.get_return(fbs, order["orderId"], ret["id"])
    claim = found.items[0].claims[0]
    assert client.get_return_photo(fbs, order["orderId"], ret["id"], claim.return_item_id,
                                   claim.images[0]).content_type == "image/png"
    assert client.get_return_application(fbs, order["orderId"], ret["id"]).startswith(b"%PDF")
    allowed = client.get_return_available_decisions(biz, fbs, ret["id"])
    assert DecisionType.DECLINE_REFUND in {a.decision for a in allowed}
    with pytest.raises(MarketBadRequest):  # a refusal without its reason
        client.submit_return_decision(fbs, order["orderId"], ret["id"], [
            ItemDecision(claim.return_item_id, DecisionType.DECLINE_REFUND, comment="Товар тот, что заказан")])
    client.submit_return_decision(fbs, order["orderId"], ret["id"], [
        ItemDecision(claim.return_item_id, DecisionType.PARTIAL_MONEY_REFUND, compensation=Decimal("500"))])
    chat = client.create_chat(biz, ChatContext(ChatContextType.RETURN, ret["id"]))
    assert client.create_chat(biz, ChatContext(ChatContextType.RETURN, ret["id"])) == chat
    client.send_message_to_chat(biz, chat, "Здравствуйте! Прикладываем фото упаковки.")
    client.send_file_to_chat(biz, chat, "box.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")
    history = client.get_chat_history(biz, chat, limit=1)
    assert history.messages[0].text and history.next_page_token
    assert client.get_chat_history(biz, chat, page_token=history.next_page_token).messages[0].files
    assert [c.id for c in client.get_chats(biz, [ChatContext(ChatContextType.RETURN, ret["id"])]).chats] == [chat]


def test_get_orders_shutdown_date_and_its_retired_answer_follow_the_spec(sandbox, openapi, spec_dict):
    """getOrder's x-deprecation-config is the date the promo pre-check stops; the sandbox's retired
    method answers the 404 the spec documents for it (no 410 is documented for any method)."""
    from fulfilment.market.client import GET_ORDER_SHUTDOWN

    op = spec_dict["paths"]["/v2/campaigns/{campaignId}/orders/{orderId}"]["get"]
    assert op["x-deprecation-config"]["shutdown-date"] == GET_ORDER_SHUTDOWN.isoformat()
    assert "410" not in op["responses"] and "404" in op["responses"]
    p = sandbox.place([("MUG-001", 1)])
    sandbox.store.set_setting("retired_methods", ["getOrder"])
    client = sandbox.client(session=ValidatingSession(openapi))
    with pytest.raises(MarketNotFound):
        client.get_order(seed.FBS_CAMPAIGN_ID, p["orderId"])

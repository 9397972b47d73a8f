"""The sandbox Market's returns over HTTP: who can return what, the journey, the decisions' rules
and their deadline, the notifications, and chats that keep messages and files."""

import datetime as dt

import pytest
import requests

from fulfilment.market.chats import ChatContext, ChatContextType
from fulfilment.market.errors import MarketBadRequest
from fulfilment.market.returns import DecisionType, DeclineReason, ItemDecision
from fulfilment.sandbox import seed
from tests.returns_support import buyer_returns, control, shipped_with_codes, travel

FBS, BIZ = seed.FBS_CAMPAIGN_ID, seed.DEMO_BUSINESS_ID


def test_a_return_carries_the_codes_the_order_was_shipped_with(sandbox):
    order, codes = shipped_with_codes(sandbox, sandbox.client())
    ret = buyer_returns(sandbox, order["orderId"], [{"offerId": "SHOES-RUN-42", "count": 2}])
    units = ret["items"][0]["instances"]
    assert [u["cis"] for u in units] == [c.split("\x1d")[0] for c in codes["SHOES-RUN-42"]]
    assert all(u["status"] == "CREATED" for u in units)


def test_only_a_delivered_order_comes_back_and_never_more_than_was_bought(sandbox):
    client = sandbox.client()
    placed = sandbox.place([("MUG-001", 1)])
    refused = control(sandbox, "POST", f"/orders/{placed['orderId']}/returns", {"type": "RETURN"}, expect=400)
    assert "delivered" in refused["errors"][0]["message"]
    order, _ = shipped_with_codes(sandbox, client)
    buyer_returns(sandbox, order["orderId"], [{"offerId": "SHOES-RUN-42", "count": 2}])
    again = control(sandbox, "POST", f"/orders/{order['orderId']}/returns",
                    {"items": [{"offerId": "SHOES-RUN-42", "count": 1}]}, expect=400)
    assert "0 of SHOES-RUN-42" in again["errors"][0]["message"]


def test_an_unredeemed_order_comes_back_whole_and_is_cancelled(sandbox):
    order, _ = shipped_with_codes(sandbox, sandbox.client(), delivered=False)
    ret = buyer_returns(sandbox, order["orderId"], kind="UNREDEEMED")
    assert {i["shopSku"]: i["count"] for i in ret["items"]} == {"SHOES-RUN-42": 2, "MUG-001": 1}
    assert "refundStatus" not in ret and "images" not in ret["items"][0]["decisions"][0]
    assert sandbox.stored(order["orderId"])["substatus"] == "PICKUP_EXPIRED"


def test_the_journey_follows_the_documented_statuses_and_sets_the_pickup_deadline(sandbox):
    order, _ = shipped_with_codes(sandbox, sandbox.client())
    ret = buyer_returns(sandbox, order["orderId"], [{"offerId": "MUG-001", "count": 1}])
    skipped = control(sandbox, "POST", f"/returns/{ret['id']}", {"shipmentStatus": "PICKED"}, expect=400)
    assert "CREATED cannot move to PICKED" in skipped["errors"][0]["message"]
    ready = travel(sandbox, ret["id"], "IN_TRANSIT", "READY_FOR_PICKUP")
    till = dt.datetime.fromisoformat(ready["pickupTillDate"])
    assert dt.timedelta(days=4) < till - dt.datetime.now(dt.UTC) <= dt.timedelta(days=5)
    picked = travel(sandbox, ret["id"], "PICKED")
    assert "pickupTillDate" not in picked and picked["items"][0]["instances"][0]["status"] == "PICKED"


def test_the_seller_is_notified_of_a_new_return_and_of_each_step(sandbox):
    sandbox.store.set_notification_url(BIZ, "http://127.0.0.1:9/")  # queued, never delivered: we read the queue
    order, _ = shipped_with_codes(sandbox, sandbox.client())
    ret = buyer_returns(sandbox, order["orderId"], [{"offerId": "MUG-001", "count": 1}])
    travel(sandbox, ret["id"], "IN_TRANSIT")
    sent = [n["body"] for n in sandbox.store.notifications() if n["type"].startswith("ORDER_RETURN")]
    assert sent[0]["notificationType"] == "ORDER_RETURN_CREATED" and sent[0]["returnId"] == ret["id"]
    assert sent[1]["statuses"] == {"shipmentStatus": "IN_TRANSIT"}


def _claim(client, order, ret):
    return client.get_return(FBS, order["orderId"], ret["id"]).items[0].claims[0]


def test_a_decision_is_taken_once_and_a_second_is_refused(sandbox):
    client = sandbox.client()
    order, _ = shipped_with_codes(sandbox, client)
    ret = buyer_returns(sandbox, order["orderId"], [{"offerId": "SHOES-RUN-42", "count": 1, "reason": "BAD_QUALITY"}])
    claim = _claim(client, order, ret)
    decision = [ItemDecision(claim.return_item_id, DecisionType.DECLINE_REFUND,
                             DeclineReason.MECHANICAL_DAMAGE, "Подошва стёрта: товар был в носке")]
    client.submit_return_decision(FBS, order["orderId"], ret["id"], decision)
    decided = client.get_return(FBS, order["orderId"], ret["id"])
    assert decided.refund_status == "PREMODERATION_DECISION_MADE"
    assert decided.items[0].claims[0].decision == DecisionType.DECLINE_REFUND
    with pytest.raises(MarketBadRequest, match="waits for no decision"):
        client.submit_return_decision(FBS, order["orderId"], ret["id"], decision)
    assert client.get_return_available_decisions(BIZ, FBS, ret["id"]) == []


def test_a_does_not_fit_return_allows_only_a_refund_or_a_refusal(sandbox):
    client = sandbox.client()
    order, _ = shipped_with_codes(sandbox, client)
    ret = buyer_returns(sandbox, order["orderId"], [{"offerId": "MUG-001", "count": 1, "reason": "DOES_NOT_FIT"}])
    allowed = {a.decision for a in client.get_return_available_decisions(BIZ, FBS, ret["id"])}
    assert allowed == {DecisionType.REFUND_MONEY, DecisionType.DECLINE_REFUND}
    with pytest.raises(MarketBadRequest, match="REPAIR is not allowed"):
        client.submit_return_decision(FBS, order["orderId"], ret["id"], [
            ItemDecision(_claim(client, order, ret).return_item_id, DecisionType.REPAIR, comment="за неделю")])


def test_a_decision_past_its_deadline_is_refused(sandbox):
    client = sandbox.client()
    order, _ = shipped_with_codes(sandbox, client)
    ret = buyer_returns(sandbox, order["orderId"], [{"offerId": "MUG-001", "count": 1}])
    claim = _claim(client, order, ret)
    requests.post(f"{sandbox.url}/_sandbox/clock", json={"advanceSeconds": 73 * 3600}, timeout=5).raise_for_status()
    assert client.get_return_available_decisions(BIZ, FBS, ret["id"]) == []
    with pytest.raises(MarketBadRequest, match="has passed"):
        client.submit_return_decision(FBS, order["orderId"], ret["id"],
                                      [ItemDecision(claim.return_item_id, DecisionType.REFUND_MONEY)])


def test_photos_are_real_images_and_the_application_a_real_pdf(sandbox):
    client = sandbox.client()
    order, _ = shipped_with_codes(sandbox, client)
    ret = buyer_returns(sandbox, order["orderId"], [{"offerId": "MUG-001", "count": 1, "photos": 2,
                                                     "comment": "Скол на ручке"}])
    claim = _claim(client, order, ret)
    photos = [client.get_return_photo(FBS, order["orderId"], ret["id"], claim.return_item_id, h) for h in claim.images]
    import io

    from PIL import Image  # Pillow comes with reportlab; here only to prove the bytes are a picture

    assert [Image.open(io.BytesIO(p.content)).size for p in photos] == [(64, 48), (64, 48)]
    assert photos[0].content != photos[1].content
    pdf = client.get_return_application(FBS, order["orderId"], ret["id"])
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")


def test_a_chat_about_a_dbs_return_is_refused_as_documented(sandbox):
    client = sandbox.client()
    placed = sandbox.place([("MUG-001", 1)], campaign_id=seed.DBS_CAMPAIGN_ID, program="DBS",
                           delivery_type="DELIVERY", status="DELIVERED", substatus="DELIVERY_SERVED")
    ret = buyer_returns(sandbox, placed["orderId"], [{"offerId": "MUG-001", "count": 1}])
    with pytest.raises(MarketBadRequest, match="FBY, FBS and Express"):
        client.create_chat(BIZ, ChatContext(ChatContextType.RETURN, ret["id"]))
    chat = client.create_chat(BIZ, ChatContext(ChatContextType.ORDER, placed["orderId"]))
    client.send_file_to_chat(BIZ, chat, "упаковка.png", b"\x89PNG\r\n\x1a\nrest", "image/png")
    url = client.get_chat_history(BIZ, chat).messages[0].files[0].url
    assert requests.get(url, timeout=5).content == b"\x89PNG\r\n\x1a\nrest"

"""The Market's notifications as typed events (market/notifications.py): every documented type, the
malformed bodies answered WRONG_EVENT_FORMAT, and the answers' shapes."""

import ast
import datetime as dt
import json
from pathlib import Path

import pytest

from fulfilment.market import notification_values as values, notifications as n
from fulfilment.market.types import OrderStatus

T = "2025-01-16T10:09:49.759084017Z"
AT = dt.datetime(2025, 1, 16, 10, 9, 49, 759084, tzinfo=dt.UTC)
ITEMS = [{"offerId": "MUG-001", "count": 2}]
ORDER = {"campaignId": 21001, "orderId": 50000001}

VALID = {
    "PING": {"notificationType": "PING", "time": T},
    "ORDER_CREATED": {"notificationType": "ORDER_CREATED", **ORDER, "createdAt": T, "items": ITEMS},
    "ORDER_STATUS_UPDATED": {"notificationType": "ORDER_STATUS_UPDATED", **ORDER, "status": "PROCESSING",
                             "substatus": "STARTED", "updatedAt": T},
    "ORDER_CANCELLED": {"notificationType": "ORDER_CANCELLED", **ORDER, "cancelledAt": T, "items": ITEMS},
    "ORDER_CANCELLATION_REQUEST": {"notificationType": "ORDER_CANCELLATION_REQUEST", **ORDER, "requestedAt": T},
    "ORDER_UPDATED": {"notificationType": "ORDER_UPDATED", **ORDER, "updateType": "SHIPMENT_DATE_UPDATED",
                      "updatedAt": T},
    "ORDER_RETURN_CREATED": {"notificationType": "ORDER_RETURN_CREATED", **ORDER, "returnId": 9, "returnType": "RETURN",
                             "createdAt": T, "items": ITEMS},
    "ORDER_RETURN_STATUS_UPDATED": {"notificationType": "ORDER_RETURN_STATUS_UPDATED", **ORDER, "returnId": 9,
                                    "statuses": {"refundStatus": "REFUNDED"}, "updatedAt": T},
    "GOODS_FEEDBACK_CREATED": {"notificationType": "GOODS_FEEDBACK_CREATED", "businessId": 10001, "feedbackId": 5,
                               "createdAt": T, "publishedAt": T},
    "GOODS_FEEDBACK_COMMENT_CREATED": {"notificationType": "GOODS_FEEDBACK_COMMENT_CREATED", "businessId": 10001,
                                       "commentId": 6, "createdAt": T},
    "CHAT_CREATED": {"notificationType": "CHAT_CREATED", "businessId": 10001, "chatId": 7, "createdAt": T},
    "CHAT_MESSAGE_SENT": {"notificationType": "CHAT_MESSAGE_SENT", "businessId": 10001, "chatId": 7,
                          "messageId": "m-1", "sentAt": T},
    "CHAT_ARBITRAGE_STARTED": {"notificationType": "CHAT_ARBITRAGE_STARTED", "businessId": 10001, "chatId": 7,
                               "startedAt": T},
    "CHAT_ARBITRAGE_FINISHED": {"notificationType": "CHAT_ARBITRAGE_FINISHED", "businessId": 10001, "chatId": 7,
                                "finishedAt": T},
}
# The field whose absence the documentation forbids, per type (one each is enough to show the rule).
REQUIRED = {
    "ORDER_CREATED": "items", "ORDER_STATUS_UPDATED": "substatus", "ORDER_CANCELLED": "cancelledAt",
    "ORDER_CANCELLATION_REQUEST": "orderId", "ORDER_UPDATED": "updateType", "ORDER_RETURN_CREATED": "returnId",
    "ORDER_RETURN_STATUS_UPDATED": "statuses", "GOODS_FEEDBACK_CREATED": "publishedAt",
    "GOODS_FEEDBACK_COMMENT_CREATED": "commentId", "CHAT_CREATED": "chatId", "CHAT_MESSAGE_SENT": "messageId",
    "CHAT_ARBITRAGE_STARTED": "startedAt", "CHAT_ARBITRAGE_FINISHED": "businessId",
}


def test_every_documented_type_has_its_class():
    assert set(VALID) == {str(t) for t in n.NotificationType} == set(n.TYPES)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_each_type_is_parsed_with_its_time_and_keeps_the_body(kind):
    event = n.parse_notification(json.dumps(VALID[kind]).encode())
    assert type(event) is n.TYPES[kind]
    assert event.type == kind
    assert event.time == AT
    assert event.raw == VALID[kind]


@pytest.mark.parametrize("kind", sorted(REQUIRED))
def test_a_missing_required_field_is_a_wrong_format(kind):
    body = {k: v for k, v in VALID[kind].items() if k != REQUIRED[kind]}
    with pytest.raises(n.NotificationFormatError, match=REQUIRED[kind]):
        n.parse_notification(json.dumps(body))


def test_order_events_carry_their_order_and_items():
    created = n.parse_notification(VALID["ORDER_CREATED"])
    assert isinstance(created, n.OrderNotification)
    assert (created.campaign_id, created.order_id) == (21001, 50000001)
    assert created.items == (n.NotificationItem("MUG-001", 2),)
    status = n.parse_notification(VALID["ORDER_STATUS_UPDATED"])
    assert status.status is OrderStatus.PROCESSING and status.substatus == "STARTED"
    returned = n.parse_notification(VALID["ORDER_RETURN_STATUS_UPDATED"])
    assert returned.refund_status is n.RefundStatus.REFUNDED and returned.shipment_status == ""


def test_unknown_enum_values_are_kept_as_text():
    body = {**VALID["ORDER_STATUS_UPDATED"], "status": "TELEPORTED", "substatus": "BEAMED_UP"}
    event = n.parse_notification(body)
    assert (event.status, event.substatus) == ("TELEPORTED", "BEAMED_UP")
    updated = n.parse_notification({**VALID["ORDER_UPDATED"], "updateType": "ADDRESS_UPDATED"})
    assert updated.update_type == "ADDRESS_UPDATED"


def test_an_unknown_type_is_kept_raw():
    body = {"notificationType": "ORDER_TELEPORTED", "orderId": 1, "at": "whenever"}
    event = n.parse_notification(json.dumps(body))
    assert isinstance(event, n.UnknownNotification)
    assert event.type == "ORDER_TELEPORTED" and event.raw == body and event.time is None


def test_a_ping_without_time_is_valid():
    ping = n.parse_notification('{"notificationType": "PING"}')
    assert isinstance(ping, n.Ping) and ping.time is None


@pytest.mark.parametrize("body", [
    b"", b"not json", b"\xff\xfe", b"[1, 2]", b'"PING"', b"{}", b'{"notificationType": ""}',
    b'{"notificationType": 5}',
    json.dumps({**VALID["ORDER_CREATED"], "orderId": "fifty"}).encode(),
    json.dumps({**VALID["ORDER_CREATED"], "orderId": True}).encode(),
    json.dumps({**VALID["ORDER_CREATED"], "orderId": 2**63}).encode(),
    json.dumps({**VALID["ORDER_CREATED"], "createdAt": "16-01-2025"}).encode(),
    json.dumps({**VALID["ORDER_CREATED"], "createdAt": 1737022189}).encode(),
    json.dumps({**VALID["ORDER_CREATED"], "items": {"offerId": "MUG-001"}}).encode(),
    json.dumps({**VALID["ORDER_CREATED"], "items": [{"offerId": "MUG-001"}]}).encode(),
    json.dumps({**VALID["ORDER_CREATED"], "items": [{"offerId": "", "count": 1}]}).encode(),
    json.dumps({**VALID["ORDER_STATUS_UPDATED"], "status": 3}).encode(),
    json.dumps({**VALID["PING"], "time": "yesterday"}).encode(),
    json.dumps({**VALID["ORDER_RETURN_STATUS_UPDATED"], "statuses": "REFUNDED"}).encode(),
])
def test_malformed_bodies_are_refused(body):
    with pytest.raises(n.NotificationFormatError):
        n.parse_notification(body)


def test_a_quoted_int64_is_read_as_a_number():
    event = n.parse_notification({**VALID["ORDER_CANCELLED"], "orderId": "50000001"})
    assert event.order_id == 50000001


def test_times_keep_their_offset_and_a_bare_one_is_utc():
    moscow = n.parse_notification({**VALID["ORDER_UPDATED"], "updatedAt": "2025-01-16T13:09:49+03:00"})
    assert moscow.time == dt.datetime(2025, 1, 16, 10, 9, 49, tzinfo=dt.UTC)
    bare = n.parse_notification({**VALID["ORDER_UPDATED"], "updatedAt": "2025-01-16T10:09:49"})
    assert bare.time == dt.datetime(2025, 1, 16, 10, 9, 49, tzinfo=dt.UTC)


def test_copies_of_one_event_share_a_key_and_other_events_do_not():
    one = n.parse_notification(VALID["ORDER_STATUS_UPDATED"])
    copy = n.parse_notification(json.dumps(VALID["ORDER_STATUS_UPDATED"], indent=2))
    same_moment_elsewhere = n.parse_notification({**VALID["ORDER_STATUS_UPDATED"],
                                                  "updatedAt": "2025-01-16T13:09:49.759084+03:00"})
    later = n.parse_notification({**VALID["ORDER_STATUS_UPDATED"], "updatedAt": "2025-01-16T10:09:50Z"})
    other_status = n.parse_notification({**VALID["ORDER_STATUS_UPDATED"], "substatus": "READY_TO_SHIP"})
    other_order = n.parse_notification({**VALID["ORDER_STATUS_UPDATED"], "orderId": 50000002})
    cancelled = n.parse_notification({**VALID["ORDER_CANCELLED"]})
    assert one.key == copy.key == same_moment_elsewhere.key
    assert len({one.key, later.key, other_status.key, other_order.key, cancelled.key}) == 5
    assert len(one.key) == 64


def test_the_answers_have_the_documented_shape():
    started = dt.datetime(2025, 1, 16, 13, 9, 49, 759000, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    assert n.accepted("Fulfilment", "0.1.0", started) == {
        "version": "0.1.0", "name": "Fulfilment", "time": "2025-01-16T10:09:49.759Z"}
    assert n.refused(n.NotificationErrorType.WRONG_EVENT_FORMAT, "orderId is required") == {
        "error": {"type": "WRONG_EVENT_FORMAT", "message": "orderId is required"}}
    with pytest.raises(ValueError):
        n.accepted("", "0.1.0", started)



def test_the_notifications_need_no_django():
    # market/ is usable from scripts and the benchmark: nothing of Django is imported there.
    for module in (n, values):
        tree = ast.parse(Path(module.__file__).read_text())
        names = [a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names]
        names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        assert not [name for name in names if name.split(".")[0] == "django"], module.__name__

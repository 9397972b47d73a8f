"""The client's shipment and document types without HTTP: what they send and how they read answers."""

import datetime as dt

import pytest

from fulfilment.market.documents import ReportInfo, ReportStatus, checked_external_id
from fulfilment.market.limits import LIMITS, MINUTE
from fulfilment.market.shipments import (
    FirstMileShipment,
    ShipmentAction,
    ShipmentConfirmation,
    ShipmentsFilter,
    ShipmentStatus,
)


def test_the_filter_sends_iso_dates_and_only_what_is_set():
    body = ShipmentsFilter(dt.date(2026, 12, 1), dt.date(2026, 12, 2), order_ids=(5, 5, 6), cancelled_orders=False)
    assert body.to_json() == {"dateFrom": "2026-12-01", "dateTo": "2026-12-02", "orderIds": [5, 6],
                              "cancelledOrders": False}


def test_a_shipment_keeps_an_unknown_status_and_action_as_text():
    shipment = FirstMileShipment.from_json({
        "id": 7, "orderIds": [1, 2], "planIntervalFrom": "2026-12-01T12:00:00+03:00",
        "planIntervalTo": "2026-12-01T14:00:00+03:00", "draftCount": 2, "plannedCount": 1, "factCount": 0,
        "signature": {"signed": False}, "availableActions": ["CONFIRM", "NEW_ACTION"],
        "currentStatus": {"status": "SOMETHING_NEW", "updateTime": "2026-12-01T10:00:00+03:00"}})
    assert shipment.status == "SOMETHING_NEW" and not isinstance(shipment.status, ShipmentStatus)
    assert shipment.can(ShipmentAction.CONFIRM) and "NEW_ACTION" in shipment.available_actions
    assert shipment.order_ids == (1, 2) and shipment.plan_from.hour == 12 and shipment.external_id == ""


def test_a_confirmation_sends_only_what_is_given():
    assert ShipmentConfirmation().to_json() == {}
    assert ShipmentConfirmation("S-1", "ivan").to_json() == {"externalShipmentId": "S-1", "signatory": "ivan"}


def test_a_report_is_finished_when_done_or_failed():
    info = ReportInfo.from_json({"status": "DONE", "generationRequestedAt": "2026-12-01T10:00:00+03:00",
                                 "file": "https://x/f.pdf"})
    assert info.status == ReportStatus.DONE and info.finished and info.file_url == "https://x/f.pdf"
    assert not ReportInfo.from_json({"status": "PROCESSING", "generationRequestedAt": "2026-12-01"}).finished


@pytest.mark.parametrize("value", ["", "  ", "ЗАКАЗ-1", "A\nB"])
def test_an_external_id_must_be_printable_ascii(value):
    with pytest.raises(ValueError):
        checked_external_id(value)


def test_report_status_is_limited_per_minute_and_shipments_per_hour():
    assert LIMITS["getReportInfo"].period == MINUTE and LIMITS["getReportInfo"].amount == 100
    assert LIMITS["searchShipments"].amount == 200 and LIMITS["generateMassOrderLabelsReport"].amount == 1000

"""The sandbox's asynchronous documents over HTTP: the mass labels PDF and the assembly list, their
PENDING → PROCESSING → DONE states on the Market's clock, and the file behind the link."""

import datetime as dt
import io

import pytest
import requests
from pypdf import PdfReader

from fulfilment.market.documents import LabelsSorting, ReportInfo, ReportStatus, ReportSubStatus
from fulfilment.market.errors import MarketError
from fulfilment.market.shipments import ShipmentsFilter
from fulfilment.market.types import BoxLine, PageFormat, PartialCount
from fulfilment.sandbox import seed
from fulfilment.sandbox.clock import MSK

FBS, BIZ = seed.FBS_CAMPAIGN_ID, seed.DEMO_BUSINESS_ID


def advance(sandbox, seconds: float) -> None:
    requests.post(f"{sandbox.url}/_sandbox/clock", json={"advanceSeconds": seconds}, timeout=5).raise_for_status()


def laid_out(sandbox, client, offer="MUG-001", boxes=1, **kw) -> int:
    order = sandbox.place([(offer, 1)], **kw)
    item = order["items"][0]["id"]
    layout = [[BoxLine(item, full_count=1)]] if boxes == 1 else [
        [BoxLine(item, partial=PartialCount(n, boxes))] for n in range(1, boxes + 1)]
    client.set_order_box_layout(FBS, order["orderId"], layout)
    return order["orderId"]


def page_texts(pdf: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages]


def finished(sandbox, client, report_id: str):
    advance(sandbox, 3)
    return client.get_report_info(report_id)


def test_a_report_goes_pending_processing_done_on_the_markets_clock(sandbox):
    client = sandbox.client()
    order_id = laid_out(sandbox, client)
    started = client.generate_mass_order_labels_report(BIZ, [order_id])
    assert started.report_id and started.estimated_ms == 3000
    pending = client.get_report_info(started.report_id)
    assert pending.status == ReportStatus.PENDING and not pending.file_url and not pending.finished
    advance(sandbox, 1.5)
    assert client.get_report_info(started.report_id).status == ReportStatus.PROCESSING
    advance(sandbox, 1.5)
    done = client.get_report_info(started.report_id)
    assert done.status == ReportStatus.DONE and done.finished and done.file_url and done.finished_at
    assert done.sub_status == ""


def test_the_file_link_needs_no_token_and_only_works_once_done(sandbox):
    client = sandbox.client()
    started = client.generate_mass_order_labels_report(BIZ, [laid_out(sandbox, client)])
    link = f"{sandbox.url}/_sandbox/reports/{started.report_id}/file"
    assert requests.get(link, timeout=5).status_code == 404
    info = finished(sandbox, client, started.report_id)
    resp = requests.get(info.file_url, timeout=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/pdf"
    assert resp.content == client.download_report_file(info)
    with pytest.raises(ValueError, match="not DONE"):
        client.download_report_file(client.get_report_info(
            client.generate_mass_order_labels_report(BIZ, [laid_out(sandbox, client)]).report_id))


def test_an_expired_file_link_is_an_error_that_a_retry_will_not_fix(sandbox):
    client = sandbox.client()
    stale = ReportInfo(ReportStatus.DONE, "", f"{sandbox.url}/_sandbox/reports/labels-999999/file", None, None, 0)
    with pytest.raises(MarketError) as failed:
        client.download_report_file(stale)
    assert failed.value.status == 404 and not failed.value.retryable


def test_mass_labels_come_in_the_order_given_one_page_per_box(sandbox):
    client = sandbox.client()
    old = laid_out(sandbox, client, "AC-SPLIT-9", boxes=2, created_ago=dt.timedelta(hours=5))
    new = laid_out(sandbox, client, created_ago=dt.timedelta(hours=1))
    middle = laid_out(sandbox, client, created_ago=dt.timedelta(hours=3))
    given = [new, old, middle]
    report = client.generate_mass_order_labels_report(BIZ, given, PageFormat.A7, LabelsSorting.SORT_BY_GIVEN_ORDER)
    pages = page_texts(client.download_report_file(finished(sandbox, client, report.report_id)))
    assert [p.split()[0] for p in pages] == [str(new), str(old), str(old), str(middle)]
    assert "1/2" in pages[1] and "2/2" in pages[2]
    by_date = client.generate_mass_order_labels_report(BIZ, given, sorting=LabelsSorting.SORT_BY_ORDER_CREATED_AT)
    pages = page_texts(client.download_report_file(finished(sandbox, client, by_date.report_id)))
    assert [p.split()[0] for p in pages] == [str(old), str(old), str(middle), str(new)]


def test_orders_not_found_are_named_in_the_substatus_and_left_out(sandbox):
    client = sandbox.client()
    known = laid_out(sandbox, client)
    no_layout = sandbox.place([("MUG-001", 1)])["orderId"]
    info = finished(sandbox, client, client.generate_mass_order_labels_report(BIZ, [known, no_layout, 1]).report_id)
    assert info.status == ReportStatus.DONE and info.sub_status == ReportSubStatus.RESOURCE_NOT_FOUND
    assert [p.split()[0] for p in page_texts(client.download_report_file(info))] == [str(known)]
    nothing = finished(sandbox, client, client.generate_mass_order_labels_report(BIZ, [1, 2]).report_id)
    assert nothing.status == ReportStatus.FAILED and not nothing.file_url


def test_at_most_1000_orders_per_labels_file(sandbox):
    client = sandbox.client()
    with pytest.raises(ValueError, match="1000"):
        client.generate_mass_order_labels_report(BIZ, list(range(1, 1002)))
    resp = requests.post(f"{sandbox.url}/v2/reports/documents/labels/generate",
                         json={"businessId": BIZ, "orderIds": list(range(1, 1002))},
                         headers={"Api-Key": seed.DEMO_API_KEY}, timeout=10)
    assert resp.status_code == 400 and "1000" in resp.json()["errors"][0]["message"]


def test_the_assembly_list_lists_the_shipments_orders_items_and_boxes(sandbox):
    client = sandbox.client()
    split = laid_out(sandbox, client, "AC-SPLIT-9", boxes=2)
    plain = sandbox.place([("MUG-001", 2), ("TEA-GREEN-100", 3)])["orderId"]
    client.update_external_order_id(FBS, plain, "SHOP-12")
    tomorrow = sandbox.place([("SOCKS-3P", 1)], shipment_in_days=1)["orderId"]
    today = dt.datetime.now(MSK).date()
    shipment = next(iter(client.iter_shipments(FBS, ShipmentsFilter(today, today, order_ids=(split,)))))
    report = client.generate_shipment_list_document_report(FBS, shipment.id)
    listing = " ".join(page_texts(client.download_report_file(finished(sandbox, client, report.report_id))))
    assert f"Order {split}" in listing and "boxes: 2" in listing
    assert f"Order {plain} No. SHOP-12" in listing and "MUG-001 Кружка керамическая 350 мл x 2" in listing
    assert "TEA-GREEN-100" in listing and str(tomorrow) not in listing
    assert "Orders: 2 Items: 6" in listing
    some = client.generate_shipment_list_document_report(FBS, order_ids=[plain])
    listing = " ".join(page_texts(client.download_report_file(finished(sandbox, client, some.report_id))))
    assert f"Order {plain}" in listing and f"Order {split}" not in listing


def test_the_assembly_list_needs_a_shipment_or_orders(sandbox):
    client = sandbox.client()
    with pytest.raises(ValueError):
        client.generate_shipment_list_document_report(FBS)
    resp = requests.post(f"{sandbox.url}/v2/reports/documents/shipment-list/generate", json={"campaignId": FBS},
                         headers={"Api-Key": seed.DEMO_API_KEY}, timeout=5)
    assert resp.status_code == 400 and "shipmentId or orderIds" in resp.json()["errors"][0]["message"]

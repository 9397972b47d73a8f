"""A shipment's documents from the sandbox Market over HTTP: the assembly list and all labels as one
PDF (asynchronous reports, polled), in the order the packers meet the orders; pallet labels."""

from __future__ import annotations

import io
import time

import pytest
import requests
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from fulfilment.orders import shipment_reports
from fulfilment.orders.models import Order, ShipmentReport
from fulfilment.orders.shipments import refresh_shipment
from fulfilment.packing.models import StaffSettings

from .shipment_support import mirror, ready_at_market, received, set_cutoff, shipment_today, skip_near_midnight


@pytest.fixture(autouse=True)
def _day(market):
    skip_near_midnight()
    requests.post(f"{market.url}/_sandbox/settings", json={"report_seconds": 0.2}, timeout=5).raise_for_status()


def text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def built(report: ShipmentReport) -> ShipmentReport:
    """Run the report's task steps as the worker would (without waiting between them)."""
    for _ in range(50):
        if shipment_reports.build(report.pk) is None:
            break
        time.sleep(0.1)
    report.refresh_from_db()
    return report


def test_all_labels_come_as_one_pdf_in_the_order_the_packers_meet_them(client, market, packer):
    set_cutoff(market, 120)
    first, second = ready_at_market(market, boxes=2), ready_at_market(market)
    market.place([("MUG-001", 1)])  # no layout: no labels
    mirror(market, market.business)
    shipment = shipment_today()
    client.force_login(packer)
    client.post(reverse("shipment-report", args=[shipment.pk]), {"kind": "LABELS"})
    report = built(ShipmentReport.objects.get())
    assert report.state == "DONE", report.problems
    body = received(market, "generateMassOrderLabelsReport")[-1]["body"]
    assert body["orderIds"] == sorted([first, second]) and body["sortingType"] == "SORT_BY_GIVEN_ORDER"
    assert len(PdfReader(io.BytesIO(bytes(report.file))).pages) == 3
    pdf = client.get(reverse("shipment-report-file", args=[shipment.pk, report.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    printed = Order.objects.filter(market_id__in=[first, second])
    assert all(o.labels_printed_version == o.layout_version for o in printed)


def test_labels_are_refused_when_no_order_has_a_layout(client, market, packer):
    set_cutoff(market, 120)
    market.place([("MUG-001", 1)])
    mirror(market, market.business)
    client.force_login(packer)
    shipment = shipment_today()
    client.post(reverse("shipment-report", args=[shipment.pk]), {"kind": "LABELS"})
    report = built(ShipmentReport.objects.get())
    assert report.state == "REFUSED" and report.problems == [{"code": "no_labels"}]  # a code, not words
    assert "раскладк" in client.get(reverse("shipment", args=[shipment.pk])).content.decode()
    StaffSettings.objects.update_or_create(user=packer, defaults={"language": "en"})  # this reader chose English
    reader = Client()
    reader.force_login(packer)
    english = reader.get(reverse("shipment", args=[shipment.pk])).content.decode()
    assert "No order of this shipment has labels yet" in english  # put into words for each reader
    assert not received(market, "generateMassOrderLabelsReport")


def test_a_refusal_of_the_market_is_kept_as_received_and_said_in_the_readers_words(client, market, packer):
    set_cutoff(market, 120)
    ready_at_market(market)
    mirror(market, market.business)
    shipment = shipment_today()
    client.force_login(packer)
    client.post(reverse("shipment-report", args=[shipment.pk]), {"kind": "ASSEMBLY_LIST"})
    report = ShipmentReport.objects.get()
    ShipmentReport.objects.filter(pk=report.pk).update(report_id="no-such-report")  # the Market knows none
    report = built(report)
    assert report.state == "REFUSED" and report.problems[0]["code"] == "market_refused"
    said = report.problems[0]["messages"]
    assert said and all(isinstance(m, str) and m for m in said)  # the Market's own words, as received
    page = client.get(reverse("shipment", args=[shipment.pk])).content.decode()
    assert "Маркет отказал" in page and f"<q>{said[0]}</q>" in page


def test_labels_are_asked_for_the_orders_printable_now_not_at_the_last_sync(client, market, packer):
    set_cutoff(market, 120)
    market.place([("MUG-001", 1)])
    mirror(market, market.business)
    late = ready_at_market(market)  # laid out after the shipments were last read
    client.force_login(packer)
    shipment = shipment_today()
    assert shipment.with_labels == []
    client.post(reverse("shipment-report", args=[shipment.pk]), {"kind": "LABELS"})
    assert built(ShipmentReport.objects.get()).state == "DONE"
    assert received(market, "generateMassOrderLabelsReport")[-1]["body"]["orderIds"] == [late]


def test_a_label_that_is_not_the_boxs_is_refused_and_not_offered(client, market, packer):
    set_cutoff(market, 120)
    placed = ready_at_market(market)
    mirror(market, market.business)
    client.force_login(packer)
    shipment = shipment_today()
    client.post(reverse("shipment-report", args=[shipment.pk]), {"kind": "LABELS"})
    report = ShipmentReport.objects.get()
    assert shipment_reports.build(report.pk) is not None  # asked the Market, with the box barcodes read again
    # Meanwhile the box's barcode here is not the one its label carries: the check must catch it.
    order = Order.objects.get(market_id=placed)
    raw = order.raw
    raw["delivery"]["boxesLayout"][0]["barcode"] = "NOT-THE-LABEL"
    Order.objects.filter(pk=order.pk).update(raw=raw)
    report = built(report)
    assert report.state == "REFUSED" and report.problems and report.file is None
    page = client.get(reverse("shipment", args=[shipment.pk])).content.decode()
    assert "report-file" not in page


def test_the_assembly_list_names_the_orders(client, market, packer):
    set_cutoff(market, 120)
    a = ready_at_market(market)
    mirror(market, market.business)
    shipment = shipment_today()
    client.force_login(packer)
    client.post(reverse("shipment-report", args=[shipment.pk]), {"kind": "ASSEMBLY_LIST"})
    report = built(ShipmentReport.objects.get())
    assert report.state == "DONE" and str(a) in text(bytes(report.file))
    page = client.get(reverse("shipment", args=[shipment.pk])).content.decode()
    assert reverse("shipment-report-file", args=[shipment.pk, report.pk]) in page


def test_pallet_labels_after_the_count_is_declared(client, market, supervisor):
    set_cutoff(market, 120)
    ready_at_market(market)
    mirror(market, market.business)
    shipment = shipment_today()
    client.force_login(supervisor)
    page = client.get(reverse("shipment-pallet-labels", args=[shipment.pk]), follow=True).content.decode()
    assert "количество паллет" in page
    market.client().set_shipment_pallets_count(shipment.campaign.market_id, shipment.market_id, 2)
    refresh_shipment(shipment.pk, client=market.client())
    page = client.get(reverse("shipment", args=[shipment.pk])).content.decode()
    assert "Ярлыки паллет A8" in page and "Ярлыки паллет A4" in page and "Pallet labels" not in page
    pdf = client.get(reverse("shipment-pallet-labels", args=[shipment.pk]) + "?format=A8")
    assert len(PdfReader(io.BytesIO(pdf.content)).pages) == 2


def test_an_unknown_document_kind_is_refused(client, market, packer):
    set_cutoff(market, 120)
    market.place([("MUG-001", 1)])
    mirror(market, market.business)
    client.force_login(packer)
    page = client.post(reverse("shipment-report", args=[shipment_today().pk]), {"kind": "X"}, follow=True)
    assert "Неизвестный документ" in page.content.decode() and not ShipmentReport.objects.exists()


def test_a_failed_report_is_said_in_words_and_an_unknown_reason_quoted_as_received():
    from django.utils import translation

    from fulfilment.orders.report_problems import MARKET_FAILED, describe, problem, quoted

    with translation.override("ru"):
        too_large = problem(MARKET_FAILED, reason="TOO_LARGE")
        assert describe(too_large) == "Маркет не смог сделать документ: он получился бы слишком большим."
        assert quoted(too_large) == []
        odd = problem(MARKET_FAILED, reason="SOMETHING_NEW")
        assert describe(odd) == "Маркет не смог сделать документ." and quoted(odd) == ["SOMETHING_NEW"]
    with translation.override("en"):
        assert describe(too_large) == "The Market could not make the document: it would be too large."

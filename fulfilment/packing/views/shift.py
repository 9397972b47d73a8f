"""The supervisor's shift view and its CSV: the page, and its charts alone when htmx polls them."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from .. import shift
from ..access import supervisor_required
from ..http import HtmxHttpRequest
from ..widgets import DateInput

PAGE = "packing/shift.html"


class ShiftForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Shift of"), required=False, widget=DateInput())


def _day(request: HtmxHttpRequest) -> tuple[ShiftForm, dt.date]:
    """The chosen day, or today when none (or a bad one: the form says why)."""
    today = timezone.localdate()
    form = ShiftForm(request.GET or None, initial={"day": today})
    day = form.cleaned_data.get("day") if form.is_valid() else None
    return form, day or today


@require_GET
@supervisor_required
@vary_on_headers("HX-Request")
def shift_view(request: HtmxHttpRequest) -> HttpResponse:
    form, day = _day(request)
    data = shift.read(day)
    ctx = {"form": form, "shift": data, "today": day == timezone.localdate(),
           "packed_chart": shift.packed_chart(data), "refused_chart": shift.hbar_chart(data.refused, "#dc2626"),
           "not_mistakes_chart": shift.hbar_chart(data.not_mistakes, "#6b7280"),
           "waiting_chart": shift.hbar_chart(data.waiting, "#d97706")}
    return render(request, f"{PAGE}#charts" if request.htmx else PAGE, ctx)


@require_GET
@supervisor_required
def shift_csv(request: HtmxHttpRequest) -> HttpResponse:
    _form, day = _day(request)
    resp = HttpResponse("".join(shift.csv_lines(shift.read(day))), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="shift-{day:%Y%m%d}.csv"'
    return resp

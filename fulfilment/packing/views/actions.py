"""The order screen's buttons, one view per action: each reads its form, runs one packing rule on
the locked order (``kernel.attempt``) and answers with ``order.answer`` (the panel for htmx, the
page with the result as a message otherwise)."""

from __future__ import annotations

import enum
from collections.abc import Callable

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from fulfilment.orders.models import Order

from .. import boxes, finishing, scanning
from ..access import packer_required
from ..http import HtmxHttpRequest, whole_number
from ..kernel import Feedback, Operation, attempt
from .order import after_teaching, answer, get_order, teaching


class Reuse(enum.Enum):
    NOTHING = 0
    ORDER = 1  # the order row: ``do`` changed it in memory as in the database
    STATE = 2  # the order and its packing state: ``do`` changed neither items, boxes nor codes


class BadValue(Exception):
    """A form field that must be a whole number is missing or is not one."""


def _number(request: HtmxHttpRequest, name: str) -> int:
    value = whole_number(request.POST.get(name, ""))
    if value is None:
        raise BadValue(name)
    return value


def _run(request: HtmxHttpRequest, order_id: int, action: str, do: Callable[..., Feedback],
         *numbers: str, reuse: Reuse = Reuse.NOTHING) -> HttpResponse:
    """``do`` with the form's whole-number fields ``numbers``; 400 when one is missing or bad. The
    order is read once, under the action's lock (an order that does not exist: 404 from there).
    ``reuse``: what of the locked read still holds once ``do`` succeeded, for the answer to draw
    from instead of reading it again (what ``do`` changed by a query is read again)."""
    try:
        values = {name: _number(request, name) for name in numbers}
    except BadValue as exc:
        get_order(order_id)  # 404 first, as for any request about an order that does not exist
        return HttpResponseBadRequest(_("Missing or bad value: %(name)s") % {"name": exc.args[0]})
    ops: list[Operation] = []

    def run(op: Operation, **params: int) -> Feedback:
        ops.append(op)
        return do(op, **params)

    try:
        fb = attempt(order_id, request.user, action, run, **values)
    except Order.DoesNotExist:
        raise Http404 from None
    if not (fb.ok and ops and reuse is not Reuse.NOTHING):
        return answer(request, order_id, fb)
    # Committed under the lock with the version bumped: the order as the operation left it is the
    # one a read now finds (a refusal rolled back, and its objects may hold what was undone).
    op = ops[0]
    return answer(request, order_id, fb, order=op.order, state=op.state if reuse is Reuse.STATE else None)


@require_POST
@packer_required
def new_box(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    return _run(request, order_id, "new_box", boxes.new_box)


@require_POST
@packer_required
def set_current_box(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    return _run(request, order_id, "set_current", boxes.set_current, "box")


@require_POST
@packer_required
def delete_box(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    return _run(request, order_id, "delete_box", boxes.delete_box, "box")


@require_POST
@packer_required
def move_unit(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    return _run(request, order_id, "move", boxes.move, "line", "to")


@require_POST
@packer_required
def remove_unit(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    return _run(request, order_id, "remove_unit", boxes.remove_unit, "line")


@require_POST
@packer_required
def split_unit(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    return _run(request, order_id, "split", boxes.split, "item", "parts")


@require_POST
@packer_required
def unsplit_unit(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    return _run(request, order_id, "unsplit", boxes.unsplit, "item", "unit")


@require_POST
@packer_required
def delete_code(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    return _run(request, order_id, "delete_code", scanning.delete_code, "instance")


@require_POST
@packer_required
def set_country(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """A code's country changed without removing the code (a wrong one scanned or typed)."""
    get_order(order_id)
    try:
        instance = _number(request, "instance")
    except BadValue:
        return HttpResponseBadRequest(_("Missing or bad value: %(name)s") % {"name": "instance"})
    return answer(request, order_id, attempt(order_id, request.user, "set_country", scanning.set_country,
                                             instance=instance, country=request.POST.get("country", "")))


@require_POST
@packer_required
def finish(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    # Finishing resets the codes' checks by a query: the packing state is read again.
    return _run(request, order_id, "finish", finishing.finish, reuse=Reuse.ORDER)


@require_POST
@packer_required
def ready(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    return _run(request, order_id, "ready", finishing.ready, reuse=Reuse.STATE)


@require_POST
@packer_required
def choose_item(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """The answer to "which item is it?" for a new barcode or a code several items could take."""
    get_order(order_id)
    try:
        item = _number(request, "item")
    except BadValue:
        return HttpResponseBadRequest(_("Choose an item."))
    fb = scanning.choose_item(order_id, request.user, request.POST.get("code", ""), item,
                              teach=teaching(request, order_id))
    after_teaching(request, fb)
    return answer(request, order_id, fb)


@require_POST
@packer_required
def report_problem(request: HtmxHttpRequest, order_id: int) -> HttpResponse:
    """Take the order out of the queue with the reason; done, the packer goes back to the queue."""
    get_order(order_id)
    p = request.POST
    item = whole_number(p.get("item", ""))
    fb = attempt(order_id, request.user, "problem", finishing.report_problem, problem=p.get("problem", ""),
                 item=item, note=p.get("note", "").strip())
    if fb.ok and fb.redirect:  # the queue confirms it (?reported=), as after a scanned command
        return HttpResponseClientRedirect(fb.redirect) if request.htmx else redirect(fb.redirect)
    return answer(request, order_id, fb)

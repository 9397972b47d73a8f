"""What a DBS shop does beyond boxes: keys for digital goods (due 30 minutes after PROCESSING) and
changes to the recipient or the delivery interval (seed 003). Both go to the Market through the
outbox, with the order locked, and are recorded in the audit trail without the secrets themselves
(keys and phone numbers stay in the outbox row that carries them)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy

from fulfilment.market.changes import DigitalCodes, OrderUpdate, Recipient
from fulfilment.market.types import DigitalItem
from fulfilment.orders import outbox
from fulfilment.orders.models import AuditEvent, Order, OrderItem, OrderStatus, OutboxAction

from .kernel import Feedback, Refused, locked
from .widgets import DateInput

Kind = OutboxAction.Kind
# CustomerDTO and TimeIntervalDTO of the spec.
PHONE = re.compile(r"^\+[0-9]{4,15}$")
TIME = re.compile(r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")
NAME_MAX = 512


def digital_sent(order: Order) -> OutboxAction | None:
    """The keys already on their way or delivered (a refused send can be corrected and sent again)."""
    return (OutboxAction.objects.filter(order=order, kind=Kind.DIGITAL_CODES)
            .exclude(state__in=(OutboxAction.State.FAILED, OutboxAction.State.SUPERSEDED)).order_by("-id").first())


class DigitalKeysForm(forms.Form):
    """One block per item: as many keys as units (one per line, so a scanner's Enter separates them),
    the activation instructions, and the date the keys must be activated by."""

    def __init__(self, items: list[OrderItem], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"codes-{item.pk}"] = forms.CharField(
                label=_("Keys for %(sku)s (%(n)s, one per line)") % {"sku": item.offer_id, "n": item.count},
                widget=forms.Textarea(attrs={"rows": min(max(item.count, 2), 10), "autocomplete": "off",
                                             "spellcheck": "false"}))
            self.fields[f"slip-{item.pk}"] = forms.CharField(
                label=_("How to activate"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
            self.fields[f"till-{item.pk}"] = forms.DateField(
                label=_("Activate by"), widget=DateInput())

    def blocks(self) -> list[tuple[OrderItem, Any, Any, Any]]:
        return [(i, self[f"codes-{i.pk}"], self[f"slip-{i.pk}"], self[f"till-{i.pk}"]) for i in self.items]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        seen: set[str] = set()
        today = timezone.localdate()
        for item in self.items:
            raw = data.get(f"codes-{item.pk}")
            if raw is not None:
                codes = [line.strip() for line in raw.splitlines() if line.strip()]
                if len(codes) != item.count:
                    self.add_error(f"codes-{item.pk}", _("%(need)s keys are needed, %(got)s entered.")
                                   % {"need": item.count, "got": len(codes)})
                repeated = [c for c in codes if c in seen or codes.count(c) > 1]
                if repeated:
                    self.add_error(f"codes-{item.pk}", _("The key %(code)s is entered twice.") % {"code": repeated[0]})
                seen.update(codes)
                data[f"codes-{item.pk}"] = codes
            till = data.get(f"till-{item.pk}")
            if till is not None and till < today:
                self.add_error(f"till-{item.pk}", _("The activation date has passed."))
        return data

    def change(self) -> DigitalCodes:
        d = self.cleaned_data
        return DigitalCodes(tuple(DigitalItem(i.market_item_id, tuple(d[f"codes-{i.pk}"]), d[f"slip-{i.pk}"].strip(),
                                              d[f"till-{i.pk}"]) for i in self.items))


def send_digital_keys(order_id: int, user: AbstractBaseUser | None, form: DigitalKeysForm) -> Feedback:
    """Queue the keys (all items in one request, as the Market asks). A late send is still tried:
    the time of PROCESSING is an estimate, and the Market's own answer is shown as received."""
    try:
        with locked(order_id, user) as ctx:
            o = ctx.order
            if not o.is_digital:
                raise Refused(_("This order has no digital goods."))
            if not o.is_processing:
                raise Refused(_("Keys can be sent only while the order is in processing (now %(s)s).")
                              % {"s": o.get_status_display()})
            if digital_sent(o) is not None:
                raise Refused(_("The keys of this order are already sent."))
            keys = form.change()
            outbox.enqueue(o.campaign, keys, order=o, user=ctx.user)
            AuditEvent.objects.create(order=o, user=ctx.user, action="digital.codes", payload={
                "items": [{"id": i.item_id, "keys": len(i.codes), "activate_till": i.activate_till.isoformat()}
                          for i in keys.items]})
            deadline = o.digital_deadline()
            if deadline and timezone.now() > deadline:
                return Feedback(True, _("The keys are sent, later than 30 minutes after processing began: "
                                        "the Market may refuse them."))
            return Feedback(True, _("The keys are sent to the Market; the buyer gets them by e-mail."))
    except Refused as exc:
        return Feedback(False, str(exc))


# --- recipient and delivery interval -------------------------------------------------------------
class OrderUpdateForm(forms.Form):
    """Either block or both; a block is sent only when filled in completely."""

    last_name = forms.CharField(label=gettext_lazy("Last name"), max_length=NAME_MAX, required=False)
    first_name = forms.CharField(label=gettext_lazy("First name"), max_length=NAME_MAX, required=False)
    middle_name = forms.CharField(label=gettext_lazy("Middle name"), max_length=NAME_MAX, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=16, required=False,
                            widget=forms.TextInput(attrs={"placeholder": "+79990001122", "inputmode": "tel"}))
    from_date = forms.DateField(label=gettext_lazy("Delivery from"), required=False,
                                widget=DateInput())
    to_date = forms.DateField(label=gettext_lazy("to"), required=False, widget=DateInput())
    from_time = forms.CharField(label=gettext_lazy("Time from"), required=False,
                                widget=forms.TextInput(attrs={"type": "time"}))
    to_time = forms.CharField(label=gettext_lazy("to"), required=False, widget=forms.TextInput(attrs={"type": "time"}))

    RECIPIENT = ("last_name", "first_name", "phone")
    INTERVAL = ("from_date", "to_date", "from_time", "to_time")

    def __init__(self, order: Order, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order

    def recipient_fields(self) -> list[Any]:
        return [self[n] for n in ("last_name", "first_name", "middle_name", "phone")]

    def interval_fields(self) -> list[Any]:
        return [self[n] for n in self.INTERVAL]

    def clean_phone(self) -> str:
        phone = re.sub(r"[\s()-]", "", self.cleaned_data.get("phone") or "")
        if phone and not PHONE.match(phone):
            raise forms.ValidationError(_("Write the phone with the country code, digits only: +79990001122."))
        return phone

    def _clean_time(self, name: str) -> str:
        value = (self.cleaned_data.get(name) or "").strip()[:5]
        if value and not TIME.match(value):
            raise forms.ValidationError(_("Write the time as HH:MM."))
        return value

    def clean_from_time(self) -> str:
        return self._clean_time("from_time")

    def clean_to_time(self) -> str:
        return self._clean_time("to_time")

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        recipient = [n for n in self.RECIPIENT if d.get(n)]
        interval = [n for n in self.INTERVAL if d.get(n)]
        if not recipient and not interval and not d.get("middle_name"):
            raise forms.ValidationError(_("Fill in the new recipient, the new delivery interval, or both."))
        if (recipient or d.get("middle_name")) and len(recipient) < len(self.RECIPIENT):
            for n in self.RECIPIENT:
                if not d.get(n) and n not in self.errors:
                    self.add_error(n, _("Needed for a new recipient."))
        if interval:
            if not self.order.is_courier_delivery:
                raise forms.ValidationError(_("The delivery interval can be changed only for courier delivery."))
            for n in self.INTERVAL:
                if not d.get(n) and n not in self.errors:
                    self.add_error(n, _("Needed for a new delivery interval."))
            if d.get("from_date") and d.get("to_date"):
                if d["to_date"] < d["from_date"]:
                    self.add_error("to_date", _("The interval ends before it starts."))
                if d["from_date"] < timezone.localdate():
                    self.add_error("from_date", _("The date has passed."))
            if d.get("from_time") and d.get("to_time") and d["to_time"] <= d["from_time"]:
                self.add_error("to_time", _("The interval ends before it starts."))
        return d

    def change(self) -> OrderUpdate:
        d = self.cleaned_data
        recipient = Recipient(d["first_name"].strip(), d["last_name"].strip(), d["phone"],
                              (d.get("middle_name") or "").strip()) if d.get("phone") else None
        interval = bool(d.get("from_date"))
        return OrderUpdate(self.order.market_id, recipient.fields() if recipient else (),
                           (d["from_date"], d["to_date"]) if interval else None,
                           (d["from_time"], d["to_time"]) if interval else None)


def can_update(order: Order) -> bool:
    """updateOrder is the LaaS model's (its tags in the spec), until the order is delivered or cancelled."""
    return (order.is_laas
            and order.status not in (OrderStatus.DELIVERED, OrderStatus.CANCELLED))


def update_order(order_id: int, user: AbstractBaseUser | None, form: OrderUpdateForm) -> Feedback:
    """Send the new recipient and/or delivery interval; the Market answers with operations to follow."""
    try:
        with locked(order_id, user) as ctx:
            o = ctx.order
            if not can_update(o):
                raise Refused(_("Only a LaaS order that is not delivered or cancelled can be changed."))
            change = form.change()
            outbox.enqueue(o.campaign, change, order=o, user=ctx.user)
            AuditEvent.objects.create(order=o, user=ctx.user, action="order.update", payload={
                "recipient": bool(change.customer),
                "dates": [d.isoformat() for d in change.delivery_dates] if change.delivery_dates else None,
                "times": list(change.delivery_times) if change.delivery_times else None})
            return Feedback(True, _("The change is sent; the Market applies it within minutes. "
                                    "Its operation numbers appear below once it answers."))
    except Refused as exc:
        return Feedback(False, str(exc))

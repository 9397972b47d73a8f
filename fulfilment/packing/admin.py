from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _, ngettext

from .login import AdminLoginForm, unlock
from .models import StaffSettings

# The admin's own login page says "locked" too, not just "wrong password".
admin.site.login_form = AdminLoginForm


@admin.register(StaffSettings)
class StaffSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "language"]
    list_filter = ["language"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]


admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LoginAttemptAdmin(AccessAttemptAdmin):
    """axes' failed-attempts list, with an action that unlocks the accounts (from every address)."""

    actions = ["unlock_accounts", *AccessAttemptAdmin.actions]

    @admin.action(description=_("Unlock the selected accounts"), permissions=["delete"])
    def unlock_accounts(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        usernames = sorted({u for u in queryset.values_list("username", flat=True) if u})
        unlock(usernames)
        self.message_user(request, ngettext("Unlocked %(count)d account: %(names)s.",
                                            "Unlocked %(count)d accounts: %(names)s.", len(usernames))
                          % {"count": len(usernames), "names": ", ".join(usernames)})

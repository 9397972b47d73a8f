from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from fulfilment.packing import dbs_screens, screens
from fulfilment.packing import supervisor_screens as sup
from fulfilment.packing import views as packing_views
from fulfilment.packing.login import LoginForm

admin.site.site_header = "Fulfilment"

urlpatterns = [
    path("healthz", packing_views.health, name="health"),
    path("login/", login_not_required(auth_views.LoginView.as_view(
        authentication_form=LoginForm, redirect_authenticated_user=True)), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", packing_views.home, name="home"),
    path("sync/<int:business_id>/", packing_views.sync_now, name="sync-now"),
    path("queue/", screens.queue, name="queue"),
    path("queue/open/", screens.queue_open, name="queue-open"),
    path("queue/sheet/", screens.assembly_sheet, name="assembly-sheet"),
    path("help/scanner/", screens.scanner_sheet, name="scanner-sheet"),
    path("queue/training/", screens.training_sheet, name="training-sheet"),
    path("orders/<int:order_id>/", screens.order_screen, name="order"),
    path("orders/<int:order_id>/panel/", screens.order_panel, name="order-panel"),
    path("orders/<int:order_id>/scan/", screens.order_scan, name="order-scan"),
    path("orders/<int:order_id>/do/", screens.order_op, name="order-op"),
    path("orders/<int:order_id>/codes/check/", screens.order_check_codes, name="order-check-codes"),
    path("orders/<int:order_id>/labels/", screens.order_labels, name="order-labels"),
    path("orders/<int:order_id>/digital-keys/", dbs_screens.digital_keys, name="order-digital-keys"),
    path("orders/<int:order_id>/refresh/", packing_views.order_refresh, name="order-refresh"),
    path("orders/<int:order_id>/actions/<int:action_id>/retry/", packing_views.action_retry, name="action-retry"),
    path("supervisor/", sup.overview, name="supervisor"),
    path("supervisor/ready/", sup.bulk_ready, name="supervisor-bulk-ready"),
    path("supervisor/orders/<int:order_id>/", sup.order_decisions, name="supervisor-order"),
    path("supervisor/orders/<int:order_id>/cancellation/", sup.cancellation, name="supervisor-cancellation"),
    path("supervisor/orders/<int:order_id>/remove-item/", sup.remove_item, name="supervisor-remove-item"),
    path("supervisor/orders/<int:order_id>/cancel/", sup.cancel_order, name="supervisor-cancel"),
    path("supervisor/orders/<int:order_id>/back/", sup.back_to_packing, name="supervisor-back-to-packing"),
    path("supervisor/orders/<int:order_id>/update/", sup.update_order, name="supervisor-update-order"),
    path("supervisor/reports/", sup.report, name="supervisor-report"),
    path("supervisor/reports/orders.csv", sup.report_csv, name="supervisor-report-csv"),
    path("language/", packing_views.language, name="language"),
]

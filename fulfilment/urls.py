from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from fulfilment.orders.metrics import metrics
from fulfilment.packing.login import LoginForm
from fulfilment.packing.views import (
    actions,
    barcode_links,
    digital,
    order,
    queue,
    returns,
    sheets,
    shift,
    site,
    supervisor as sup,
)

admin.site.site_header = "Fulfilment"

urlpatterns = [
    path("healthz", site.health, name="health"),
    path("readyz", site.ready, name="ready"),
    path("metrics", metrics, name="metrics"),
    path("login/", login_not_required(auth_views.LoginView.as_view(
        authentication_form=LoginForm, redirect_authenticated_user=True)), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("fulfilment.notifications.urls")),
    path("admin/", admin.site.urls),
    path("", site.home, name="home"),
    path("sync/<int:business_id>/", site.sync_now, name="sync-now"),
    path("language/", site.language, name="language"),
    # The packer.
    path("queue/", queue.queue, name="queue"),
    path("queue/open/", queue.queue_open, name="queue-open"),
    path("orders/<int:order_id>/", order.order_screen, name="order"),
    path("orders/<int:order_id>/panel/", order.order_panel, name="order-panel"),
    path("orders/<int:order_id>/scan/", order.order_scan, name="order-scan"),
    path("orders/<int:order_id>/codes/check/", order.order_check_codes, name="order-check-codes"),
    path("orders/<int:order_id>/labels/", order.order_labels, name="order-labels"),
    path("orders/<int:order_id>/refresh/", order.order_refresh, name="order-refresh"),
    path("orders/<int:order_id>/actions/<int:action_id>/retry/", order.action_retry, name="action-retry"),
    path("orders/<int:order_id>/boxes/new/", actions.new_box, name="order-new-box"),
    path("orders/<int:order_id>/boxes/current/", actions.set_current_box, name="order-set-current-box"),
    path("orders/<int:order_id>/boxes/delete/", actions.delete_box, name="order-delete-box"),
    path("orders/<int:order_id>/units/move/", actions.move_unit, name="order-move-unit"),
    path("orders/<int:order_id>/units/remove/", actions.remove_unit, name="order-remove-unit"),
    path("orders/<int:order_id>/units/split/", actions.split_unit, name="order-split-unit"),
    path("orders/<int:order_id>/units/unsplit/", actions.unsplit_unit, name="order-unsplit-unit"),
    path("orders/<int:order_id>/codes/delete/", actions.delete_code, name="order-delete-code"),
    path("orders/<int:order_id>/codes/country/", actions.set_country, name="order-set-country"),
    path("orders/<int:order_id>/teach/", order.order_teach, name="order-teach"),
    path("orders/<int:order_id>/item-chosen/", actions.choose_item, name="order-choose-item"),
    path("orders/<int:order_id>/finish/", actions.finish, name="order-finish"),
    path("orders/<int:order_id>/ready/", actions.ready, name="order-ready"),
    path("orders/<int:order_id>/problem/", actions.report_problem, name="order-report-problem"),
    path("orders/<int:order_id>/digital-keys/", digital.digital_keys, name="order-digital-keys"),
    # Printed pages.
    path("queue/sheet/", sheets.assembly_sheet, name="assembly-sheet"),
    path("queue/training/", sheets.training_sheet, name="training-sheet"),
    path("help/scanner/", sheets.scanner_sheet, name="scanner-sheet"),
    # The supervisor.
    path("returns/", returns.returns_list, name="returns"),
    path("returns/open/", returns.returns_open, name="returns-open"),
    path("returns/<int:return_id>/", returns.return_screen, name="return"),
    path("returns/<int:return_id>/scan/", returns.return_scan, name="return-scan"),
    path("returns/<int:return_id>/units/<int:unit_id>/grade/", returns.return_grade, name="return-grade"),
    path("returns/<int:return_id>/receive/", returns.return_receive, name="return-receive"),
    path("returns/<int:return_id>/decide/", returns.return_decide, name="return-decide"),
    path("returns/<int:return_id>/photos/<int:item_id>/<str:image_hash>/", returns.return_photo,
         name="return-photo"),
    path("supervisor/", sup.overview, name="supervisor"),
    path("supervisor/ready/", sup.bulk_ready, name="supervisor-bulk-ready"),
    path("supervisor/orders/<int:order_id>/", sup.order_decisions, name="supervisor-order"),
    path("supervisor/orders/<int:order_id>/cancellation/", sup.cancellation, name="supervisor-cancellation"),
    path("supervisor/orders/<int:order_id>/remove-item/", sup.remove_item, name="supervisor-remove-item"),
    path("supervisor/orders/<int:order_id>/cancel/", sup.cancel_order, name="supervisor-cancel"),
    path("supervisor/orders/<int:order_id>/back/", sup.back_to_packing, name="supervisor-back-to-packing"),
    path("supervisor/orders/<int:order_id>/update/", sup.update_order, name="supervisor-update-order"),
    path("supervisor/barcodes/", barcode_links.barcode_links, name="supervisor-barcodes"),
    path("supervisor/barcodes/add/", barcode_links.barcode_link_add, name="supervisor-barcode-add"),
    path("supervisor/barcodes/<int:link_id>/", barcode_links.barcode_link_change, name="supervisor-barcode-change"),
    path("supervisor/reports/", sup.report, name="supervisor-report"),
    path("supervisor/reports/orders.csv", sup.report_csv, name="supervisor-report-csv"),
    path("supervisor/shift/", shift.shift_view, name="supervisor-shift"),
    path("supervisor/shift.csv", shift.shift_csv, name="supervisor-shift-csv"),
]

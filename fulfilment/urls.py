from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from fulfilment.packing import views as packing_views

admin.site.site_header = "Fulfilment"

urlpatterns = [
    path("healthz", packing_views.health, name="health"),
    path("login/", login_not_required(auth_views.LoginView.as_view(redirect_authenticated_user=True)), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", packing_views.home, name="home"),
    path("sync/<int:business_id>/", packing_views.sync_now, name="sync-now"),
    path("orders/<int:order_id>/", packing_views.order_detail, name="order"),
    path("orders/<int:order_id>/refresh/", packing_views.order_refresh, name="order-refresh"),
    path("orders/<int:order_id>/actions/<int:action_id>/retry/", packing_views.action_retry, name="action-retry"),
]

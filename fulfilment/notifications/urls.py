from django.urls import re_path

from . import views

# The seller gives the Market a base URL and the Market posts to <base>/notification; a base pasted
# with a trailing slash must work too, hence the regular expression.
urlpatterns = [
    re_path(r"^market/notifications/(?P<secret>[-\w]{20,64})/+notification/?$", views.notification,
            name="market-notification"),
]

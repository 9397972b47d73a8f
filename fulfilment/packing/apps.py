from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PackingConfig(AppConfig):
    name = "fulfilment.packing"
    verbose_name = _("Packing")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SandboxConfig(AppConfig):
    """Only the management commands live in Django; the sandbox server and its storage do not."""

    name = "fulfilment.sandbox"
    verbose_name = _("Sandbox Market")

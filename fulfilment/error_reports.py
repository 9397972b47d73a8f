"""Error reports (the technical 500 page, mailed reports) that never carry a secret.

Django's filter hides settings by name, but POST fields and local variables only where a view or
function was decorated, and nothing at all under DEBUG. This one also hides, always, every POST
field and local variable whose name looks secret (``api_token``, ``token``, ``password``, a dict key
``Api-Key``), and honours ``sensitive_variables`` even under DEBUG (``bin/run`` turns it on).
"""

from __future__ import annotations

from collections.abc import Iterable
from types import FrameType
from typing import Any

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter


class SecretsHiddenFilter(SafeExceptionReporterFilter):
    def is_active(self, request: HttpRequest | None) -> bool:
        return True

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        params = super().get_post_parameters(request)
        if not params:
            return params
        cleansed = params.copy()
        for name in params:
            if self.hidden_settings.search(name):
                cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: FrameType
                                      ) -> Iterable[tuple[str, Any]]:
        return [(name, self.cleanse_setting(name, value))
                for name, value in super().get_traceback_frame_variables(request, tb_frame)]

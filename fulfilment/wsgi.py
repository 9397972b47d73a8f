"""WSGI entry point (gunicorn fulfilment.wsgi; in production with docker/gunicorn.conf.py)."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from fulfilment.apps import refuse_weak_secret_key
from fulfilment.proxy import ForwardedFor, trusted_proxies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfilment.settings")
# One setting, TRUSTED_PROXIES, says whose X-Forwarded-* headers are believed: here (the client's address),
# in gunicorn (the scheme, docker/gunicorn.conf.py) and in client_ip.py.
application = ForwardedFor(get_wsgi_application(), trusted_proxies(settings.TRUSTED_PROXIES))
# gunicorn runs no system checks: a server with the published placeholder or a weak key stops here.
refuse_weak_secret_key()

"""WSGI entry point (gunicorn fulfilment.wsgi; in production with docker/gunicorn.conf.py)."""

import os

from django.core.wsgi import get_wsgi_application

from fulfilment.apps import refuse_weak_secret_key
from fulfilment.proxy import ForwardedFor, trusted_proxies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfilment.settings")
application = ForwardedFor(get_wsgi_application(), trusted_proxies(os.environ.get("FORWARDED_ALLOW_IPS", "")))
# gunicorn runs no system checks: a server with the published placeholder or a weak key stops here.
refuse_weak_secret_key()

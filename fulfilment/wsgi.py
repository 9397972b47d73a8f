"""WSGI entry point (gunicorn fulfilment.wsgi; in production with docker/gunicorn.conf.py)."""

import os

from django.core.wsgi import get_wsgi_application

from fulfilment.apps import refuse_weak_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfilment.settings")
application = get_wsgi_application()
# gunicorn runs no system checks: a server with the published placeholder or a weak key stops here.
refuse_weak_secret_key()

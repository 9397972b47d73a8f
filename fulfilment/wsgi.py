"""WSGI entry point (gunicorn fulfilment.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfilment.settings")
application = get_wsgi_application()

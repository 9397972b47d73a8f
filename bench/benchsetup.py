"""Django for a benchmark: a throw-away runtime folder, SQLite unless BENCH_DATABASE_URL says otherwise."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(tmp: Path) -> None:
    os.environ["FULFILMENT_VAR_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfilment.settings")
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    else:
        os.environ.pop("DATABASE_URL", None)
    # No broker and no Redis: the benchmarks measure the database and the web stack only.
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("RATE_LIMIT_REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

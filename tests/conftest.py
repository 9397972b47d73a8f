"""Shared fixtures: personas, the sandbox Market over HTTP, and a real Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, User

from fulfilment.market.client import Credentials, MarketClient
from fulfilment.sandbox.app import SandboxMarket
from fulfilment.sandbox.seed import DEMO_API_KEY, Seeder
from fulfilment.sandbox.server import SandboxThread
from fulfilment.sandbox.store import Store

IN_CI = os.environ.get("CI") == "true"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def forget_cached_users(url: str) -> None:
    """A test database made again gives its pks to new users: no cached user of an earlier run."""
    if not url:
        return
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        for key in client.scan_iter(match="*auth-user:*", count=1000):
            client.delete(key)
    except redis.RedisError:
        pass  # no Redis: the CI check below says so


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under CI the suite must run on PostgreSQL and Redis, with Chromium; fail at once otherwise."""
    from django.conf import settings

    forget_cached_users(settings.CACHE_REDIS_URL)
    if not IN_CI:
        return

    problems = []
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append("CI=true but DATABASE_URL does not point to PostgreSQL")
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        problems.append("CI=true but CELERY_BROKER_URL does not point to Redis")
    else:
        import redis

        try:
            redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=3).ping()
        except redis.RedisError as exc:
            problems.append(f"Redis is not reachable at {settings.CELERY_BROKER_URL}: {exc}")
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        problems.append(f"CI=true but Chromium is missing at {CHROMIUM}")
    if not os.environ.get("MARKET_OPENAPI_SPEC"):
        problems.append("CI=true but MARKET_OPENAPI_SPEC is not set")
    if problems:
        raise pytest.UsageError("; ".join(problems))


@pytest.fixture(autouse=True)
def _plain_static_files(settings: object, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests do not run collectstatic: serve static files from the source folders."""
    settings.STORAGES = {  # type: ignore[attr-defined]
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.STATIC_ROOT = str(tmp_path_factory.getbasetemp())  # type: ignore[attr-defined]
    settings.WHITENOISE_USE_FINDERS = True  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language: a test client's request leaves the language it chose
    active in the thread (LocaleMiddleware does not reset it), so a test run after an English request
    read English from code outside a request (test_i18n then test_shipments failed)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


# --- personas ------------------------------------------------------------------------------------
def make_user(username: str, role: str | None = None, **extra: object) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username, **extra)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])  # transactional tests flush data migrations
    return user


@pytest.fixture
def packer(db: None) -> User:
    return make_user("pavel", "packer")


@pytest.fixture
def supervisor(db: None) -> User:
    return make_user("svetlana", "supervisor")


@pytest.fixture
def outsider(db: None) -> User:
    return make_user("olga")


@pytest.fixture
def admin_user(db: None) -> User:
    return make_user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def cached_sessions(settings: object) -> None:
    """Sessions as production and CI keep them: read from Redis, written to the database too."""
    if not settings.CACHE_REDIS_URL:  # type: ignore[attr-defined]
        if IN_CI:
            pytest.fail("CI runs on Redis: the sessions must be cached there")
        pytest.skip("no Redis: the embedded default keeps sessions in the database only")
    assert settings.SESSION_ENGINE == "fulfilment.accounts.sessions"  # type: ignore[attr-defined]


# --- the sandbox Market --------------------------------------------------------------------------
@dataclass
class Sandbox:
    url: str
    store: Store
    app: SandboxMarket
    seeder: Seeder

    def client(self, token: str = DEMO_API_KEY, **kw: object) -> MarketClient:
        return MarketClient(Credentials(token), self.url, timeout=10, **kw)  # type: ignore[arg-type]

    def place(self, lines: list[tuple[str, int]], **kw: object) -> dict:
        """Put one order into the sandbox (see ``Seeder.order`` for the options)."""
        order = self.seeder.order(lines, **kw)  # type: ignore[arg-type]
        self.store.save_orders([order])
        return order

    def stored(self, order_id: int) -> dict:
        order = self.store.order(order_id)
        assert order is not None
        return order


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox Market over real HTTP on a free port, with the demo accounts (no orders yet)."""
    store = Store()
    seeder = Seeder(store)
    seeder.accounts()
    app = SandboxMarket(store, check_delay=0)
    with SandboxThread(app) as url:
        yield Sandbox(url, store, app, seeder)
    store.close()


@pytest.fixture
def market(sandbox: Sandbox, db: None) -> Sandbox:
    """The sandbox with the demo business and its FBS and DBS shops mirrored as accounts here
    (``market.business``); no orders yet."""
    from fulfilment.orders.models import Business, Campaign, PlacementModel
    from fulfilment.sandbox import seed

    business = Business.objects.create(market_id=seed.DEMO_BUSINESS_ID, name="Demo", api_base_url=sandbox.url,
                                       api_token=seed.DEMO_API_KEY)
    Campaign.objects.create(market_id=seed.FBS_CAMPAIGN_ID, business=business, name="FBS")
    Campaign.objects.create(market_id=seed.DBS_CAMPAIGN_ID, business=business, name="DBS",
                            placement_model=PlacementModel.DBS)
    Campaign.objects.create(market_id=seed.LAAS_CAMPAIGN_ID, business=business, name="LaaS",
                            placement_model=PlacementModel.LAAS)
    sandbox.business = business  # type: ignore[attr-defined]
    return sandbox


# --- browser -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's Chromium through Playwright; never a downloaded browser. Missing: skip, but fail in CI."""
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"Chromium is required in CI and missing at {CHROMIUM}")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (bin/test installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the Django ORM calls made by the
    # test itself are synchronous and safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# Every page reports what the Content-Security-Policy refused; a browser test with a violation fails.
_CSP_LISTENER = """document.addEventListener("securitypolicyviolation", (e) => window.__cspViolation(
  `${e.violatedDirective} refused ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
  + ` on ${location.pathname}`));"""


def checked_context(chromium: object, **options: object) -> tuple[object, list[str]]:
    """A browser context whose pages record every CSP violation into the returned list."""
    options = {"viewport": {"width": 1366, "height": 768}, "locale": "ru-RU", **options}
    context = chromium.new_context(**options)  # type: ignore[attr-defined]
    violations: list[str] = []
    context.expose_binding("__cspViolation", lambda source, text: violations.append(text))
    context.add_init_script(_CSP_LISTENER)
    return context, violations


@pytest.fixture
def page(chromium: object, live_server: object, settings: object) -> Iterator[object]:
    settings.SESSION_COOKIE_SECURE = False  # type: ignore[attr-defined] - live_server speaks plain http
    settings.CSRF_COOKIE_SECURE = False  # type: ignore[attr-defined]
    context, violations = checked_context(chromium)
    pg = context.new_page()
    pg.csp_violations = violations  # type: ignore[attr-defined] - a test that provokes one clears it
    yield pg
    context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)

"""What tests/test_deploy.py needs without a Docker engine: compose.yaml rendered as compose renders it (merge
keys, ${…} from docker/.env, env_file per service), the operator's docker/.env, and production-like processes
started on free ports."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from .test_settings import CONFIG_VARS

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
# Variables of the test machine that would leak into the processes started here.
LEAKING = (*CONFIG_VARS, "STATIC_ROOT", "CELERY_QUEUE", "WEB_BIND", "WEB_CONCURRENCY", "WEB_THREADS",
           "FORWARDED_ALLOW_IPS", "TRUSTED_PROXIES", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "GUNICORN_CMD_ARGS",
           "SITE_HOST")


class ComposeError(Exception):
    """compose would refuse to start (a required variable unset)."""


_VARIABLE = re.compile(
    r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(text: str, variables: dict[str, str]) -> str:
    """compose's ${VAR}, ${VAR:-default}, ${VAR:?error} and $$; an unset plain ${VAR} is an error here (compose
    only warns and uses an empty string, which is never what we mean)."""

    def one(m: re.Match[str]) -> str:
        if m.group(1):
            return "$"
        name, op, arg = m.group(2) or m.group(5), m.group(3), m.group(4) or ""
        value = variables.get(name)
        unset = value is None or (op is not None and op.startswith(":") and value == "")
        if op in (":-", "-"):
            return interpolate(arg, variables) if unset else value
        if op in (":?", "?"):
            if unset:
                raise ComposeError(f"{name}: {arg}")
            return value
        if value is None:
            raise ComposeError(f"{name} is not set")
        return value

    return _VARIABLE.sub(one, text)


def _interpolate_all(node: object, variables: dict[str, str]) -> object:
    if isinstance(node, str):
        return interpolate(node, variables)
    if isinstance(node, list):
        return [_interpolate_all(v, variables) for v in node]
    if isinstance(node, dict):
        return {k: _interpolate_all(v, variables) for k, v in node.items()}
    return node


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments skipped (what compose's env_file and .env accept)."""
    values = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{path}:{n}: not KEY=VALUE")
        values[key.strip()] = value.strip()
    return values


def compose_dir_with(tmp_path: Path, dotenv: dict[str, str]) -> Path:
    """A copy of docker/ with the operator's docker/.env, as the README's steps leave it."""
    target = tmp_path / "docker"
    shutil.copytree(DOCKER, target, ignore=shutil.ignore_patterns(".env", "__pycache__"))
    (target / ".env").write_text("".join(f"{k}={v}\n" for k, v in dotenv.items()))
    return target


def render(compose_dir: Path) -> dict:
    """compose.yaml with merge keys applied and ${…} filled from the project's .env (compose's project folder is
    the compose file's)."""
    raw = yaml.safe_load((compose_dir / "compose.yaml").read_text())
    dotenv = compose_dir / ".env"
    variables = read_env_file(dotenv) if dotenv.exists() else {}
    return _interpolate_all(raw, variables)  # type: ignore[return-value]


def env_files(service: dict, compose_dir: Path) -> list[Path]:
    entries = service.get("env_file", [])
    entries = [entries] if isinstance(entries, str | dict) else entries
    return [(compose_dir / (e["path"] if isinstance(e, dict) else e)).resolve() for e in entries]


def service_environment(service: dict, compose_dir: Path) -> dict[str, str]:
    """What the container's process sees: its env_file(s), then `environment:` over them."""
    env: dict[str, str] = {}
    for path in env_files(service, compose_dir):
        env.update(read_env_file(path))
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    env.update({k: str(v) for k, v in environment.items()})
    return env


def argv(command: str | list[str]) -> list[str]:
    """compose splits a string command like a shell would, but runs no shell."""
    return shlex.split(command) if isinstance(command, str) else list(command)


def healthcheck_argv(service: dict) -> list[str]:
    test = service["healthcheck"]["test"]
    if test[0] == "CMD":
        return test[1:]
    assert test[0] == "CMD-SHELL", test
    return ["sh", "-c", test[1]]


# --- processes -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_environ() -> dict[str, str]:
    """This environment without its configuration; python, gunicorn and celery found in our virtualenv, as in the
    image, so that the compose file's commands run as written."""
    env = {k: v for k, v in os.environ.items() if k not in LEAKING}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


@contextlib.contextmanager
def started(cmd: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process in its own group, killed with its children at the end if it still runs."""
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def wait_until(condition: Callable[[], object], timeout: float, what: str, log: Path | None = None,
               interval: float = 0.2) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def http_get(port: int, path: str, headers: dict[str, str], source: str = "127.0.0.1"
             ) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request from ``source`` (any 127.x address reaches the server; only 127.0.0.1 is a trusted proxy)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20, source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


# --- the operator's settings and production-like processes -------------------------------------------
IN_CI = os.environ.get("CI") == "true"
SITE_HOST = "pack.example.com"
GOOD_KEY = secrets.token_urlsafe(50)
GOOD_S3_SECRET = secrets.token_urlsafe(30)


def operator_dotenv(**changes: str) -> dict[str, str]:
    """docker/.env as the README says to make it: the template with SITE_HOST, SECRET_KEY and the storage's
    secret changed."""
    values = read_env_file(DOCKER / "production.env")
    values.update({"SITE_HOST": SITE_HOST, "SECRET_KEY": GOOD_KEY, "S3_SECRET_ACCESS_KEY": GOOD_S3_SECRET})
    values.update(changes)
    return values


def production_env(compose: dict, compose_dir: Path, tmp: Path, service: str = "web") -> dict[str, str]:
    """The container's environment for ``service``, with what this machine has instead of the compose
    network: a database and a broker here, runtime folders in ``tmp``."""
    env = clean_environ() | service_environment(compose["services"][service], compose_dir)
    env.update({
        "FULFILMENT_VAR_DIR": str(tmp / "var"),
        "STATIC_ROOT": str(tmp / "static"),
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"] if IN_CI else "filesystem://",
        "CELERY_QUEUE": f"deploy-{uuid.uuid4().hex[:8]}",
        "PYTHONUNBUFFERED": "1",
        # Not the container's /tmp/prometheus: gunicorn empties that folder at start, and tests run side by side.
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prometheus"),
    })
    return env


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, Path]:
    """compose rendered with the operator's docker/.env, a migrated database and collected static files, as the
    image and the migrate service leave them."""
    tmp = tmp_path_factory.mktemp("site")
    compose_dir = compose_dir_with(tmp, operator_dotenv())
    compose = render(compose_dir)
    env = production_env(compose, compose_dir, tmp)
    for cmd in (["manage.py", "migrate", "--noinput", "-v0"], ["manage.py", "collectstatic", "--noinput", "-v0"]):
        subprocess.run([sys.executable, *cmd], cwd=ROOT, env=env, check=True, timeout=300)
    return compose, compose_dir, tmp


def web_env(site: tuple[dict, Path, Path], port: int, **extra: str) -> dict[str, str]:
    compose, compose_dir, tmp = site
    env = production_env(compose, compose_dir, tmp)
    env.update({"WEB_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1", "WEB_THREADS": "2", **extra})
    return env


def gunicorn_command(site: tuple[dict, Path, Path]) -> list[str]:
    compose = site[0]
    return argv(compose["services"]["web"]["command"])


PROXIED = {"Host": SITE_HOST, "X-Forwarded-Proto": "https"}


def login_form(port: int) -> tuple[str, str]:
    status, headers, body = http_get(port, "/login/", PROXIED)
    assert status == 200, body[:500]
    cookie = next(re.search(r"csrftoken=([^;]+)", v).group(1) for k, v in headers  # type: ignore[union-attr]
                  if k.lower() == "set-cookie" and v.startswith("csrftoken="))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()  # type: ignore[union-attr]
    return cookie, token


def post_login_head(body: bytes, cookie: str) -> bytes:
    return (f"POST /login/ HTTP/1.1\r\nHost: {SITE_HOST}\r\nX-Forwarded-Proto: https\r\n"
            f"Origin: https://{SITE_HOST}\r\nCookie: csrftoken={cookie}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode()


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)

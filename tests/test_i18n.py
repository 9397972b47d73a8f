"""Russian is the default UI language; the compiled catalogue ships with the code."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

LOCALE = Path(__file__).resolve().parent.parent / "fulfilment" / "locale" / "ru" / "LC_MESSAGES"


def _po_entries() -> dict[str, str]:
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    entries = {}
    for block in text.split("\n\n"):
        if "#, fuzzy" in block:
            pytest.fail(f"fuzzy translation left in django.po: {block[:200]}")
        m = re.search(r'^msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', block, re.M)
        ctx = re.search(r'^msgctxt "(.*)"', block, re.M)
        if m:
            def join(s: str) -> str:
                return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', s)).encode().decode("unicode_escape").encode(
                    "latin1").decode("utf-8")
            # A word with a context ("refused" of a refund) is its own entry: the key says which.
            entries[join(m.group(1)) if not ctx else f"{ctx.group(1)}\x04{join(m.group(1))}"] = join(m.group(2))
    return entries


def test_every_string_has_a_russian_translation():
    missing = [msgid for msgid, msgstr in _po_entries().items() if msgid and not msgstr]
    assert missing == []


def test_the_compiled_catalogue_matches_the_source():
    with (LOCALE / "django.mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = [msgid for msgid, msgstr in _po_entries().items() if msgid and compiled.gettext(msgid) != msgstr]
    assert stale == [], "run: python manage.py compilemessages --ignore .venv"


def test_russian_is_the_default_and_english_is_available(client, db):
    assert "Войти" in client.get(reverse("login")).content.decode()
    with translation.override("en"):
        assert translation.gettext("Shops") == "Shops"
    with translation.override("ru"):
        assert translation.gettext("Shops") == "Магазины"


def _copy_of_the_project(dest: Path) -> Path:
    """The project's files without the venv, git and runtime data: makemessages rewrites the .po it
    finds, so it runs on a copy and the repository's catalogue is never touched."""
    root = LOCALE.parents[3]
    skip = shutil.ignore_patterns(".venv", ".git", "var", "staticfiles", "__pycache__", "test-artifacts",
                                  "node_modules", ".pytest_cache", ".ruff_cache", "*.mo")
    shutil.copytree(root, dest, ignore=skip)
    return dest


def test_makemessages_leaves_no_untranslated_or_fuzzy_entry(tmp_path):
    if not (shutil.which("xgettext") and shutil.which("msgattrib")):
        if os.environ.get("CI") == "true":
            pytest.fail("GNU gettext is missing (bin/test installs it)")
        pytest.skip("GNU gettext is not installed")
    project = _copy_of_the_project(tmp_path / "project")
    before = (LOCALE / "django.po").read_bytes()
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "ru", "--ignore", ".venv"], cwd=project,
                   check=True, capture_output=True, timeout=300, env={**os.environ, "PYTHONPATH": str(project)})
    po = project / LOCALE.relative_to(LOCALE.parents[3]) / "django.po"
    problems = {}
    for what, flag in (("untranslated", "--untranslated"), ("fuzzy", "--only-fuzzy")):
        out = subprocess.run(["msgattrib", flag, "--no-obsolete", "--no-wrap", str(po)], check=True,
                             capture_output=True, text=True).stdout
        problems[what] = re.findall(r'^msgid "(.+)"$', out, re.M)
    assert problems == {"untranslated": [], "fuzzy": []}, "translate these in django.po"
    assert (LOCALE / "django.po").read_bytes() == before  # the repository's catalogue is as it was


def test_the_login_page_is_russian_even_for_an_english_browser(client, db):
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Войти" in html and "Пароль" in html and "Log in" not in html


def test_the_login_page_is_english_once_this_browser_chose_english(client, db, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Log in" in client.get(reverse("login")).content.decode()

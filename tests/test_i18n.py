"""Russian is the default UI language; the compiled catalogue ships with the code."""

import gettext
import re
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
        if m:
            def join(s: str) -> str:
                return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', s)).encode().decode("unicode_escape").encode(
                    "latin1").decode("utf-8")
            entries[join(m.group(1))] = join(m.group(2))
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

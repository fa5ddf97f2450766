"""Every message id of the blacklist and the fraud rules (services, API, portal pages and
their templates) has a Chinese translation with the same placeholders."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir, extract_from_file

from tests.web.test_catalogue import KEYWORDS, METHODS, OPTIONS, SRC
from xinyidai.core.i18n import catalog

RISK_FILES = [
    "risk/service/blacklist.py",
    "risk/service/fraud.py",
    "risk/service/fraud_cases.py",
    "risk/blacklist_api.py",
    "risk/fraud_api.py",
    "web/risk_blacklist_pages.py",
]
TEMPLATES = SRC / "web" / "templates" / "risk_blacklist"


def _ids() -> set[str]:
    found: set[str] = set()
    for name in RISK_FILES:
        path = SRC / name
        if not path.exists():
            continue
        for _, message, _, _ in extract_from_file(
            "python", str(path), keywords=KEYWORDS, options={}
        ):
            found.add(message if isinstance(message, str) else message[0])
    if Path(TEMPLATES).exists():
        for _, _, message, _, _ in extract_from_dir(
            TEMPLATES, method_map=METHODS, options_map=OPTIONS, keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_blacklist_and_fraud_message_id_has_a_chinese_translation() -> None:
    ids = _ids()
    assert len(ids) > 20
    assert sorted(m for m in ids if m not in catalog("zh_CN")) == []


def test_translations_keep_the_placeholders() -> None:
    for message in _ids():
        names = {part.split("}")[0] for part in message.split("{")[1:]}
        translated = catalog("zh_CN")[message]
        assert {part.split("}")[0] for part in translated.split("{")[1:]} == names, message

"""Every message id of subject rights (services, API, portal pages and their templates,
the marks in the shared report views) has a Chinese translation with the same placeholders."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir, extract_from_file

from tests.web.test_catalogue import KEYWORDS, METHODS, OPTIONS, SRC
from xinyidai.core.i18n import catalog

RIGHTS_FILES = [
    "rights/service/objections.py",
    "rights/service/documents.py",
    "rights/service/notices.py",
    "rights/service/repairs.py",
    "rights/service/self_query.py",
    "rights/service/self_reports.py",
    "rights/service/restructuring.py",
    "rights/api.py",
    "web/rights_pages.py",
    "web/templating.py",
    "profile/pdf.py",
]
TEMPLATES = [SRC / "web" / "templates" / "rights", SRC / "web" / "templates" / "consent"]


def _ids() -> set[str]:
    found: set[str] = set()
    for name in RIGHTS_FILES:
        path = SRC / name
        if not path.exists():
            continue
        for _, message, _, _ in extract_from_file(
            "python", str(path), keywords=KEYWORDS, options={}
        ):
            found.add(message if isinstance(message, str) else message[0])
    for folder in TEMPLATES:
        if Path(folder).exists():
            for _, _, message, _, _ in extract_from_dir(
                folder, method_map=METHODS, options_map=OPTIONS, keywords=KEYWORDS
            ):
                found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_rights_message_id_has_a_chinese_translation() -> None:
    ids = _ids()
    assert len(ids) > 40
    assert sorted(m for m in ids if m not in catalog("zh_CN")) == []


def test_translations_keep_the_placeholders() -> None:
    for message in _ids():
        names = {part.split("}")[0] for part in message.split("{")[1:]}
        translated = catalog("zh_CN")[message]
        assert {part.split("}")[0] for part in translated.split("{")[1:]} == names, message

"""Every message id of supervision has a Chinese translation with the same
placeholders."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir

from tests.web.test_catalogue import KEYWORDS, METHODS, OPTIONS, SRC
from xinyidai.core.i18n import catalog


def _ids() -> set[str]:
    return {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            SRC / "supervision", method_map=METHODS, options_map=OPTIONS, keywords=KEYWORDS
        )
    }


def test_every_supervision_message_id_has_a_chinese_translation() -> None:
    ids = _ids()
    assert len(ids) > 5
    assert sorted(m for m in ids if m not in catalog("zh_CN")) == []


def test_translations_keep_the_placeholders() -> None:
    for message in _ids():
        names = {part.split("}")[0] for part in message.split("{")[1:]}
        translated = catalog("zh_CN")[message]
        assert {part.split("}")[0] for part in translated.split("{")[1:]} == names, message

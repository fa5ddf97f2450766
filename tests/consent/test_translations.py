"""Every message id of consent, audit and privacy has a Chinese translation, and so does
every refusal the access decision can give."""

from __future__ import annotations

import pytest
from babel.messages.extract import extract_from_dir

from tests.web.test_catalogue import KEYWORDS, METHODS, OPTIONS, SRC
from xinyidai.consent.service.decision import MESSAGES
from xinyidai.core.i18n import catalog, gettext


@pytest.mark.parametrize("area", ["consent", "audit", "privacy"])
def test_every_message_id_has_a_chinese_translation(area: str) -> None:
    ids = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            SRC / area, method_map=METHODS, options_map=OPTIONS, keywords=KEYWORDS
        )
    }
    assert ids
    assert sorted(m for m in ids if m not in catalog("zh_CN")) == []


def test_every_refusal_has_a_chinese_translation_with_the_same_placeholders() -> None:
    for reason, (message, _field) in MESSAGES.items():
        translated = catalog("zh_CN").get(message)
        assert translated, reason
        names = {part.split("}")[0] for part in message.split("{")[1:]}
        assert {part.split("}")[0] for part in translated.split("{")[1:]} == names, reason
        assert gettext(message, "zh_CN", **dict.fromkeys(names, "x"))

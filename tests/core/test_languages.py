"""The caller's language from Accept-Language, weights honoured."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from xinyidai.core.i18n import SUPPORTED_LOCALES, locale_from_accept_language


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "zh_CN"),
        ("", "zh_CN"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
        ("zh;q=0.5, en;q=0.9", "en"),  # the weight decides, not the order
        ("en;q=0.8, zh-TW;q=0.8", "en"),  # a tie: the order given
        ("en;q=0, zh;q=0.1", "zh_CN"),  # q=0: not English
        ("fr-FR, de;q=0.9", "zh_CN"),  # nothing supported: the default
        ("fr, en;q=0.3", "en"),
        ("*;q=0.9, en;q=0.5", "zh_CN"),  # anything before English: the default
        ("en;q=abc, zh;q=0.2", "zh_CN"),  # a malformed weight drops its language
        ("english", "zh_CN"),  # not a tag of English
        ("EN-gb", "en"),
    ],
)
def test_accept_language(header: str | None, locale: str) -> None:
    assert locale_from_accept_language(header) == locale


@given(st.text(max_size=200))
def test_any_header_gives_a_supported_locale(header: str) -> None:
    assert locale_from_accept_language(header) in SUPPORTED_LOCALES


def test_errors_follow_the_weighted_language(client: TestClient) -> None:
    english = client.get("/api/v1/me", headers={"Accept-Language": "zh;q=0.3, en;q=0.9"})
    chinese = client.get("/api/v1/me", headers={"Accept-Language": "en;q=0.3, zh;q=0.9"})
    assert english.status_code == chinese.status_code == 401
    assert english.json()["error"]["message"] != chinese.json()["error"]["message"]
    assert english.json()["error"]["message"].isascii()
    assert not chinese.json()["error"]["message"].isascii()


def test_input_faults_are_explained_in_the_callers_language(client: TestClient) -> None:
    """pydantic's faults by their type, ours by their message id: one language per answer."""
    url = "/api/v1/products"
    chinese = client.get(url, params={"size": 0}).json()["error"]
    english = client.get(url, params={"size": 0}, headers={"Accept-Language": "en"}).json()
    assert chinese == {**chinese, "code": "invalid", "field": "size"}
    assert chinese["message"] == "size：不能小于 1"
    assert english["error"]["message"] == "size: must be at least 1"
    unknown = client.get(url, params={"size": "many"}).json()["error"]
    assert unknown["message"] == "size：必须是整数"


def test_a_type_not_translated_keeps_pydantics_words() -> None:
    from xinyidai.core.i18n import validation_reason

    error = {"type": "some_new_type", "msg": "Input is odd", "ctx": {}}
    assert validation_reason(error, "zh_CN") == "Input is odd"
    value = {"type": "value_error", "msg": "Value error, end must be greater than start"}
    assert validation_reason(value, "en") == "end must be greater than start"

"""Spec mistakes come back as message ids naming the exact part, all of them at once;
searching the catalogue by code or name, paged."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from xinyidai.catalog import service
from xinyidai.core.errors import ValidationFailed
from xinyidai.core.i18n import gettext


def _raw(code: str = "tax_rating") -> dict[str, Any]:
    spec = next(s for s in service.default_specs() if s.code == code)
    return spec.model_dump(mode="json")


def _problems(raw: dict[str, Any]) -> list[tuple[str | None, str]]:
    with pytest.raises(service.SpecInvalid) as caught:
        service.parse_spec(raw)
    assert isinstance(caught.value, ValidationFailed)
    return [(p.field, p.message) for p in caught.value.problems]


def test_every_mistake_is_listed_with_its_path() -> None:
    raw = _raw()
    raw["name_en"] = ""
    raw["disclosure_days"] = 0
    raw["sharing_type"] = "sometimes"
    raw["fields"][1]["label_zh"] = ""
    raw["fields"][2]["name"] = "Year"
    raw["fields"][3]["type"] = "colour"
    assert _problems(raw) == [
        ("name_en", "must not be empty"),
        ("sharing_type", "must be one of: {choices}"),
        ("disclosure_days", "must be at least {ge}"),
        ("fields.1.label_zh", "must not be empty"),
        (
            "fields.2.name",
            "field name {name} must be snake_case ASCII: a-z, 0-9 and _, "
            "starting with a letter, at most 40 characters",
        ),
        ("fields.3.type", "field {name}: unknown type {type}"),
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda raw: raw["fields"].append(dict(raw["fields"][1])), "fields.8.name"),
        (lambda raw: raw["fields"][0].update(required=False), "fields.0.required"),
        (lambda raw: raw["fields"][0].update(type="string"), "fields.0.type"),
        (lambda raw: raw["fields"].pop(0), "fields"),
        (lambda raw: raw["fields"][3].update(allowed_values=None), "fields.3.allowed_values"),
        (lambda raw: raw["fields"][4]["aliases"].append("评价年度"), "fields.4.aliases"),
        (lambda raw: raw["fields"][4].update(label_zh="评价年度"), "fields.4.label_zh"),
    ],
)
def test_whole_spec_checks_name_the_part_at_fault(change: Any, field: str) -> None:
    raw = _raw()
    change(raw)
    with pytest.raises(service.SpecInvalid) as caught:
        service.parse_spec(raw)
    assert caught.value.field == field


def test_the_messages_are_translated_with_their_values() -> None:
    raw = _raw()
    raw["key_fields"] = ["credit_code", "nope"]
    with pytest.raises(service.SpecInvalid) as caught:
        service.parse_spec(raw)
    assert caught.value.translated("zh_CN") == "关键字段 nope 不是本类别的字段"
    assert str(caught.value) == "key field nope is not a field of the category"
    choices = _raw() | {"update_frequency": "hourly"}
    with pytest.raises(service.SpecInvalid) as caught:
        service.parse_spec(choices)
    assert gettext(caught.value.message, "zh_CN", **caught.value.params).startswith(
        "必须是以下之一：realtime, daily"
    )


def test_a_long_change_note_is_refused(session: Session) -> None:
    spec = service.parse_spec(_raw("honour") | {"name_en": "Honours and awards"})
    with pytest.raises(ValidationFailed) as caught:
        service.update(session, code="honour", spec=spec, actor="operator", note="x" * 501)
    assert caught.value.field == "note"


def test_search_by_code_or_name_paged(session: Session) -> None:
    rows, total = service.search_categories(session, q="TAX_", page=1, size=2)
    assert total == 3
    assert [c.code for c in rows] == ["tax_arrears", "tax_payment"]
    rows, _ = service.search_categories(session, q="TAX_", page=2, size=2)
    assert [c.code for c in rows] == ["tax_rating"]
    assert [c.code for c in service.search_categories(session, q="纳税")[0]] == [
        "tax_payment",
        "tax_rating",
    ]
    assert service.search_categories(session, q="_")[1] == len(
        [s for s in service.default_specs() if "_" in s.code or "_" in s.name_en]
    )
    assert service.search_categories(session, q="%")[1] == 0
    service.set_active(session, code="honour", active=False, actor="operator")
    assert [c.code for c in service.search_categories(session, active=False)[0]] == ["honour"]
    everything = service.search_categories(session, size=100)[1]
    assert service.search_categories(session, active=True, size=100)[1] == everything - 1


@pytest.mark.parametrize("days", [36_501, 2**31, 10**20])
def test_a_disclosure_period_past_a_hundred_years_is_refused(days: int) -> None:
    """Added to a record's date, a longer period would pass the last date a calendar holds
    (every read of the category would fail), or a database integer."""
    raw = _raw()
    raw["disclosure_days"] = days
    assert _problems(raw) == [("disclosure_days", "must be at most {le}")]
    raw["disclosure_days"] = 36_500
    assert service.parse_spec(raw).disclosure_days == 36_500

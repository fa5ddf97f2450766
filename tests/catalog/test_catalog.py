"""The catalogue: what ships, how it is edited, how headers map onto fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from xinyidai.catalog import service
from xinyidai.catalog.models import Category, CategoryVersion
from xinyidai.catalog.schemas import CategorySpec
from xinyidai.core.errors import Conflict, NotFound, ValidationFailed

# Every kind of information MISSION.md names, and the category that holds it.
MISSION_TOPICS = {
    "registration": "registration",
    "administrative licences": "admin_licence",
    "administrative penalties": "admin_penalty",
    "court judgments": "court_judgment",
    "enforcement": "court_enforcement",
    "serious-dishonesty lists": "serious_dishonesty",
    "abnormal-operation lists": "abnormal_operation",
    "red lists": "red_list",
    "black lists": "black_list",
    "honours": "honour",
    "policy support": "policy_support",
    "tax credit rating": "tax_rating",
    "tax payments": "tax_payment",
    "social insurance": "social_insurance",
    "housing fund": "housing_fund",
    "import/export": "customs_record",
    "water/electricity/gas": "utility_payment",
    "real estate": "real_estate",
    "intellectual property": "ip_patent",
    "R&D": "rd_tech",
    "warehousing/logistics": "logistics_warehouse",
    "procurement": "gov_procurement",
    "self-reported": "self_reported",
}


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_default_catalogue_covers_every_mission_category() -> None:
    codes = {spec.code for spec in service.default_specs()}
    assert len(codes) >= 25
    missing = {topic for topic, code in MISSION_TOPICS.items() if code not in codes}
    assert missing == set()


def test_negative_categories_have_a_disclosure_period() -> None:
    for spec in service.default_specs():
        if spec.polarity == "negative":
            assert spec.disclosure_days is not None, spec.code
            assert spec.disclosure_days <= 5 * 366, spec.code


def test_new_database_holds_the_default_catalogue(session: Session) -> None:
    assert _count(session, Category) == len(service.default_specs())
    assert service.load_defaults(session) == 0


def _edited(session: Session, category: str, **changes: object) -> CategorySpec:
    spec = service.spec_of(service.get_by_code_or_raise(session, code=category))
    return spec.model_copy(update=changes)


def test_update_makes_a_new_version_and_keeps_the_old(session: Session) -> None:
    spec = _edited(session, "tax_rating", disclosure_days=730)
    category = service.update(session, code="tax_rating", spec=spec, actor="operator", note="test")
    assert category.version == 2
    assert category.disclosure_days == 730
    assert service.spec_at_version(session, code="tax_rating", version=1).disclosure_days is None
    assert [v.version for v in service.versions(session, code="tax_rating")] == [2, 1]


def test_an_unchanged_spec_makes_no_version(session: Session) -> None:
    spec = _edited(session, "honour")
    assert service.update(session, code="honour", spec=spec, actor="operator").version == 1


def test_changing_a_field_type_is_refused_and_nothing_changes(session: Session) -> None:
    before = _count(session, CategoryVersion)
    spec = service.spec_of(service.get_by_code_or_raise(session, code="tax_rating"))
    fields = [
        f.model_copy(update={"type": "string", "allowed_values": None}) if f.name == "grade" else f
        for f in spec.fields
    ]
    with pytest.raises(ValidationFailed) as caught:
        service.update(
            session, code="tax_rating", spec=spec.model_copy(update={"fields": fields}), actor="op"
        )
    assert caught.value.field == "fields.grade"
    session.rollback()
    assert _count(session, CategoryVersion) == before
    assert service.get_by_code_or_raise(session, code="tax_rating").version == 1


def test_changing_the_code_is_refused(session: Session) -> None:
    spec = _edited(session, "honour", code="honours")
    with pytest.raises(ValidationFailed) as caught:
        service.update(session, code="honour", spec=spec, actor="operator")
    assert caught.value.field == "code"


def test_creating_an_existing_code_conflicts(session: Session) -> None:
    spec = _edited(session, "honour")
    with pytest.raises(Conflict):
        service.create(session, spec=spec, actor="operator")


def test_unknown_category_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound) as caught:
        service.get_by_code_or_raise(session, code="weather")
    assert caught.value.field == "category"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"key_fields": ["nope"]}, "key field nope is not a field"),
        ({"code": "Bad Code"}, "must be snake_case"),
        ({"fields": []}, "at least 1"),
    ],
)
def test_bad_specs_are_refused_naming_the_reason(change: dict[str, object], reason: str) -> None:
    raw = service.default_specs()[0].model_dump(mode="json") | change
    with pytest.raises(ValidationFailed) as caught:
        service.parse_spec(raw)
    assert reason in str(caught.value)


def test_a_category_without_a_subject_code_is_refused() -> None:
    raw = service.default_specs()[0].model_dump(mode="json")
    raw["fields"] = [f for f in raw["fields"] if f["name"] != "credit_code"]
    raw["key_fields"] = [raw["fields"][0]["name"]]
    with pytest.raises(ValidationFailed, match="credit_code field"):
        service.parse_spec(raw)


def test_an_alias_meaning_two_fields_is_refused() -> None:
    raw = next(s for s in service.default_specs() if s.code == "tax_payment").model_dump(
        mode="json"
    )
    raw["fields"][4]["aliases"].append("实缴税额")
    with pytest.raises(ValidationFailed, match="would mean both"):
        service.parse_spec(raw)


def test_headers_map_through_chinese_aliases_and_english_names() -> None:
    spec = next(s for s in service.default_specs() if s.code == "court_enforcement")
    mapped, unknown = service.HeaderMap(spec).resolve(
        [
            "被执行人名称",
            "统一社会信用代码",
            "执行标的（元）",
            "立案时间",
            "执行法院",
            "备注",
            "case_number",
        ]
    )
    assert {i: f.name for i, f in mapped.items()} == {
        0: "enterprise_name",
        1: "credit_code",
        2: "amount",
        3: "filed_on",
        4: "court",
        6: "case_number",
    }
    assert unknown == ["备注"]


def test_full_width_and_spaced_headers_match() -> None:
    spec = next(s for s in service.default_specs() if s.code == "social_insurance")
    header_map = service.HeaderMap(spec)
    assert header_map.field_for(" 实缴金额(元) ") is not None
    assert header_map.field_for("实缴金额（元）").name == "paid_amount"  # type: ignore[union-attr]


def test_api_lists_categories_with_their_schema(client: TestClient) -> None:
    body = client.get("/api/v1/catalog/categories", params={"size": 200}).json()["items"]
    assert len(body) >= 25
    registration = next(c for c in body if c["code"] == "registration")
    assert registration["sharing_type"] == "unconditional"
    assert any(f["name"] == "credit_code" for f in registration["fields"])


def test_api_filters_by_provider(client: TestClient) -> None:
    body = client.get("/api/v1/catalog/categories", params={"provider": "court"}).json()["items"]
    assert {c["code"] for c in body} == {"court_judgment", "court_enforcement", "dishonest_debtor"}


def test_api_unknown_category_has_the_error_shape(client: TestClient) -> None:
    response = client.get("/api/v1/catalog/categories/weather")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["field"] == "category"


def test_api_lists_versions(client: TestClient) -> None:
    body = client.get("/api/v1/catalog/categories/tax_rating/versions").json()["items"]
    assert [v["version"] for v in body] == [1]
    assert body[0]["snapshot"]["code"] == "tax_rating"


def test_cli_put_updates_a_category_as_a_new_version(db_url: str, tmp_path: Path) -> None:
    from xinyidai.cli import app

    runner = CliRunner()
    shown = runner.invoke(app, ["catalog", "show", "honour"])
    assert shown.exit_code == 0, shown.output
    spec = json.loads(shown.stdout)
    spec["name_en"] = "Honours and awards"
    path = tmp_path / "honour.json"
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["catalog", "put", str(path), "--note", "rename"])
    assert result.exit_code == 0, result.output
    assert "version 2" in result.output
    listed = runner.invoke(app, ["catalog", "list"])
    assert "honour" in listed.stdout


def test_cli_show_unknown_category_fails_with_reason(db_url: str) -> None:
    from xinyidai.cli import app

    result = CliRunner().invoke(app, ["catalog", "show", "weather"])
    assert result.exit_code == 1
    assert "no catalogue category weather" in result.output


def test_the_catalogue_page_in_docs_is_current() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "catalogue.md"
    assert page.read_text(encoding="utf-8") == service.markdown(service.default_specs()), (
        "docs/catalogue.md is stale: run `xyd catalog list --markdown > docs/catalogue.md`"
    )


def _statements(session: Session) -> list[str]:
    from sqlalchemy import event

    seen: list[str] = []
    event.listen(
        session.get_bind(), "before_cursor_execute", lambda *a: seen.append(a[2]), named=False
    )
    return seen


def test_specs_in_force_follow_every_committed_edit(db_url: str) -> None:
    from xinyidai.core import db as core_db

    with core_db.session_scope() as first:
        assert service.specs_in_force(first)["tax_rating"].sensitivity == "restricted"
        spec = _edited(first, "tax_rating", sensitivity="confidential")
        service.update(first, code="tax_rating", spec=spec, actor="op")
    with core_db.session_scope() as second:
        assert service.specs_in_force(second)["tax_rating"].sensitivity == "confidential"
        service.create(
            second,
            spec=_edited(second, "honour", code="honour_two", name_en="Honour 2"),
            actor="op",
        )
    with core_db.session_scope() as third:
        assert "honour_two" in service.specs_in_force(third)


def test_an_uncommitted_edit_is_seen_by_its_session_only(db_url: str) -> None:
    from xinyidai.core import db as core_db

    editing = core_db.new_session()
    other = core_db.new_session()
    try:
        before = service.specs_in_force(editing)["tax_rating"].sensitivity
        service.update(
            editing,
            code="tax_rating",
            spec=_edited(editing, "tax_rating", sensitivity="public"),
            actor="op",
        )
        assert service.specs_in_force(editing)["tax_rating"].sensitivity == "public"
        assert service.specs_in_force(other)["tax_rating"].sensitivity == before
        editing.rollback()
        assert service.specs_in_force(editing)["tax_rating"].sensitivity == before
    finally:
        editing.close()
        other.close()


def test_the_catalogue_is_read_once_per_transaction(session: Session) -> None:
    service.specs_in_force(session)
    seen = _statements(session)
    for _ in range(3):
        service.specs_in_force(session)
    assert len(seen) <= 1
    assert not any("catalog_category.fields" in s for s in seen)

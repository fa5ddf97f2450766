"""The catalogue pages over HTTP: every member reads, the operator creates and edits versions."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.web.conftest import csrf_of
from xinyidai.catalog import service as catalog_service
from xinyidai.catalog.models import Category, CategoryVersion

Portal = Callable[[str], TestClient]


class _FormValues(HTMLParser):
    """What a browser would submit from the first form with ``data-testid``: inputs, checked
    boxes and selected options, by name."""

    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid = testid
        self.inside = False
        self.values: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("data-testid") == self.testid:
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.values[a["name"]] = "on"
            else:
                self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
            self.values.setdefault(self._select or "", "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == "form":
            self.inside = False


def form_values(html: str, testid: str = "category-form") -> dict[str, str]:
    parser = _FormValues(testid)
    parser.feed(html)
    return dict(parser.values)


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _category(session: Session, code: str) -> Category:
    session.expire_all()
    return catalog_service.get_by_code_or_raise(session, code=code)


def _codes(html: str) -> list[str]:
    return re.findall(r'<tr data-code="([a-z_]+)">', html)


def _error(html: str, field: str) -> str:
    match = re.search(rf'data-error-for="{re.escape(field)}">([^<]*)<', html)
    assert match, f"no error shown for {field}"
    return match.group(1)


# --- reading -------------------------------------------------------------------------------


def test_the_list_shows_every_category_paged_in_chinese(portal: Portal) -> None:
    client = portal("operator")
    total = len(catalog_service.default_specs())
    first = client.get("/catalog")
    assert first.status_code == 200
    html = first.text
    assert f"共 {total} 个类别" in html
    assert len(_codes(html)) == 20
    row = re.search(r'<tr data-code="admin_penalty">(.*?)</tr>', html, re.S)
    assert row
    for text in (
        "行政处罚信息",
        "Administrative penalties",
        "credit",
        "无条件共享",
        "公开",
        "每周",
    ):
        assert text in row.group(1)
    assert "现行" in row.group(1)
    assert 'href="/catalog/new"' in html
    second = client.get("/catalog", params={"page": 2}).text
    assert len(_codes(second)) == total - 20
    assert set(_codes(html)).isdisjoint(_codes(second))
    assert "第 2 页，共 2 页" in second


def test_the_list_searches_by_code_and_by_chinese_or_english_name(portal: Portal) -> None:
    client = portal("auditor")
    assert _codes(client.get("/catalog", params={"q": "tax_"}).text) == [
        "tax_arrears",
        "tax_payment",
        "tax_rating",
    ]
    assert _codes(client.get("/catalog", params={"q": "纳税"}).text) == [
        "tax_payment",
        "tax_rating",
    ]
    assert _codes(client.get("/catalog", params={"q": "court j"}).text) == ["court_judgment"]
    nothing = client.get("/catalog", params={"q": "100%"}).text
    assert _codes(nothing) == []
    assert "未找到" in nothing


@pytest.mark.parametrize("username", ["provider-tax", "bank", "auditor", "enterprise"])
def test_members_read_the_catalogue_but_have_no_way_to_edit(portal: Portal, username: str) -> None:
    client = portal(username)
    listing = client.get("/catalog")
    assert listing.status_code == 200
    assert 'href="/catalog/new"' not in listing.text
    detail = client.get("/catalog/tax_rating")
    assert detail.status_code == 200
    assert "/catalog/tax_rating/edit" not in detail.text
    assert "csrf_token" in detail.text  # only the sign-out form
    assert 'data-testid="retire"' not in detail.text


def test_the_menu_offers_the_catalogue_by_role(portal: Portal) -> None:
    assert 'data-nav="/catalog"' in portal("operator").get("/dashboard").text
    assert 'data-nav="/catalog"' in portal("provider-tax").get("/dashboard").text
    assert 'data-nav="/catalog"' in portal("bank").get("/dashboard").text
    auditor = portal("auditor").get("/catalog").text
    assert 'data-nav="/catalog" aria-current="page">信用目录<' in auditor


def test_signing_in_is_needed(client: TestClient) -> None:
    response = client.get("/catalog", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/catalog"


def test_the_detail_shows_fields_key_fields_and_versions(portal: Portal) -> None:
    html = portal("bank").get("/catalog/court_enforcement").text
    assert "被执行人信息" in html
    facts = re.search(r'data-testid="category-facts">(.*?)</dl>', html, re.S)
    assert facts
    assert "court" in facts.group(1)
    assert "1826 天" in facts.group(1)
    spec = next(s for s in catalog_service.default_specs() if s.code == "court_enforcement")
    rows = re.findall(r'<tr data-field="([a-z_]+)">', html)
    assert rows == [field.name for field in spec.fields]
    amount = re.search(r'<tr data-field="amount">(.*?)</tr>', html, re.S)
    assert amount
    assert "执行标的（元）" in amount.group(1)
    assert "金额" in amount.group(1)
    assert "yuan" in amount.group(1)
    keys = re.search(r'data-testid="key-fields">(.*?)</dd>', html, re.S)
    assert keys
    assert re.findall(r"<code>([a-z_]+)</code>", keys.group(1)) == spec.key_fields
    versions = re.search(r'data-testid="version-table"[^>]*>(.*?)</table>', html, re.S)
    assert versions
    assert re.findall(r'data-version="(\d+)"', versions.group(1)) == ["1"]
    assert "system" in versions.group(1)
    assert "default catalogue" in versions.group(1)


def test_an_unknown_category_or_version_is_not_found(portal: Portal) -> None:
    client = portal("operator")
    assert client.get("/catalog/weather").status_code == 404
    assert client.get("/catalog/honour", params={"version": "7"}).status_code == 404
    assert client.get("/catalog/honour", params={"version": "x"}).status_code == 404
    assert client.get("/catalog/weather/edit").status_code == 404


# --- creating and editing ------------------------------------------------------------------


def _new_category_form(client: TestClient) -> dict[str, str]:
    page = client.get("/catalog/new")
    assert page.status_code == 200
    values = form_values(page.text)
    values.update(
        {
            "code": "green_credit",
            "name_zh": "绿色信贷信息",
            "name_en": "Green credit",
            "group": "finance",
            "provider": "finance",
            "sharing_type": "conditional",
            "sensitivity": "restricted",
            "update_frequency": "quarterly",
            "polarity": "positive",
            "key_fields": "credit_code, project_number",
            "fields.1.name": "project_number",
            "fields.1.label_zh": "项目编号",
            "fields.1.label_en": "Project number",
            "fields.1.aliases": "项目编号，项目代码",
            "fields.1.type": "string",
            "fields.1.required": "on",
            "note": "first green finance feed",
        }
    )
    return values


def test_the_operator_creates_a_category_at_version_one(portal: Portal, session: Session) -> None:
    client = portal("operator")
    values = _new_category_form(client)
    assert values["fields.0.name"] == "credit_code"  # the form starts with the subject's code
    response = client.post("/catalog/new", data=values, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/catalog/green_credit?done=created"
    page = client.get(response.headers["location"]).text
    assert "类别已创建，版本为 1。" in page
    created = _category(session, "green_credit")
    spec = catalog_service.spec_of(created)
    assert (created.version, created.active, created.updated_by) == (1, True, "operator")
    assert spec.key_fields == ["credit_code", "project_number"]
    assert spec.fields[1].aliases == ["项目编号", "项目代码"]
    assert spec.fields[1].required
    assert spec.fields[0].type == "credit_code"
    history = catalog_service.versions(session, code="green_credit")
    assert [(v.version, v.note) for v in history] == [(1, "first green finance feed")]


def test_creating_a_code_that_exists_shows_the_conflict_by_the_code(
    portal: Portal, session: Session
) -> None:
    client = portal("operator")
    values = _new_category_form(client) | {"code": "honour"}
    before = _count(session, CategoryVersion)
    response = client.post("/catalog/new", data=values)
    assert response.status_code == 409
    assert _error(response.text, "code") == "目录类别 honour 已存在"
    assert 'value="绿色信贷信息"' in response.text
    assert _count(session, CategoryVersion) == before


def test_editing_makes_a_new_version_and_keeps_the_old_one_readable(
    portal: Portal, session: Session
) -> None:
    client = portal("operator")
    values = form_values(client.get("/catalog/tax_rating/edit").text)
    assert values["sharing_type"] == "conditional"
    assert values["fields.0.name"] == "credit_code"
    assert values["fields.0.required"] == "on"
    old_name = values["name_en"]
    values["name_en"] = "Tax credit grade"
    values["fields.0.aliases"] += ", 纳税主体代码"
    values["note"] = "clearer name"
    response = client.post("/catalog/tax_rating/edit", data=values, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/catalog/tax_rating?done=saved"
    page = client.get(response.headers["location"]).text
    assert "已保存：该类别现为第 2 版。" in page
    assert re.findall(r'data-version="(\d+)"', page) == ["2", "1"]
    assert "clearer name" in page
    category = _category(session, "tax_rating")
    assert category.version == 2
    assert category.name_en == "Tax credit grade"
    assert "纳税主体代码" in catalog_service.spec_of(category).fields[0].aliases
    # Nothing else moved: the spec is the old one with the two changes.
    old = catalog_service.spec_at_version(session, code="tax_rating", version=1)
    assert old.name_en == old_name
    assert catalog_service.spec_of(category).fields[1:] == old.fields[1:]
    older = client.get("/catalog/tax_rating", params={"version": 1}).text
    assert 'data-testid="old-version"' in older
    assert "您正在查看第 1 版（当前为第 2 版）" in older
    assert old_name in older
    assert "纳税主体代码" not in older


def test_the_operator_assigns_a_category_to_another_department_as_a_new_version(
    portal: Portal, client: TestClient, session: Session
) -> None:
    """The source department is a field of the edit page: changing it makes a version, and
    the department's upload form offers the category from then on."""
    tax_form = portal("provider-tax").get("/data/upload").text
    assert 'value="dishonest_debtor"' not in tax_form
    client.cookies.clear()
    operator = portal("operator")
    values = form_values(operator.get("/catalog/dishonest_debtor/edit").text)
    assert values["provider"] == "court"
    values["provider"] = "tax"
    values["note"] = "kept by the tax office"
    response = operator.post("/catalog/dishonest_debtor/edit", data=values, follow_redirects=False)
    assert response.status_code == 303, response.text
    category = _category(session, "dishonest_debtor")
    assert (category.provider, category.version) == ("tax", 2)
    [latest, first] = catalog_service.versions(session, code="dishonest_debtor")
    assert (latest.snapshot["provider"], latest.note) == ("tax", "kept by the tax office")
    assert first.snapshot["provider"] == "court"
    client.cookies.clear()
    assert 'value="dishonest_debtor"' in portal("provider-tax").get("/data/upload").text


def test_saving_without_a_change_makes_no_version(portal: Portal, session: Session) -> None:
    client = portal("operator")
    values = form_values(client.get("/catalog/honour/edit").text)
    response = client.post("/catalog/honour/edit", data=values, follow_redirects=False)
    assert response.headers["location"] == "/catalog/honour?done=unchanged"
    assert "没有任何更改，因此没有生成新版本。" in client.get(response.headers["location"]).text
    assert _category(session, "honour").version == 1


def test_a_new_field_added_in_the_empty_row_and_a_field_removed(
    portal: Portal, session: Session
) -> None:
    client = portal("operator")
    html = client.get("/catalog/honour/edit").text
    values = form_values(html)
    spec = catalog_service.spec_of(_category(session, "honour"))
    blank = len(spec.fields)  # the "add a field" row
    assert values[f"fields.{blank}.name"] == ""
    assert f"fields.{blank + 1}.name" not in values
    values |= {
        f"fields.{blank}.name": "award_tier",
        f"fields.{blank}.label_zh": "评定层次",
        f"fields.{blank}.label_en": "Tier",
        f"fields.{blank}.type": "enum",
        f"fields.{blank}.allowed_values": "国家级，省级, 市级",
    }
    removed = spec.fields[-1].name
    assert removed not in spec.key_fields
    values[f"fields.{blank - 1}.remove"] = "on"
    response = client.post("/catalog/honour/edit", data=values, follow_redirects=False)
    assert response.status_code == 303, response.text
    saved = catalog_service.spec_of(_category(session, "honour"))
    assert [f.name for f in saved.fields] == [f.name for f in spec.fields[:-1]] + ["award_tier"]
    assert saved.fields[-1].allowed_values == ["国家级", "省级", "市级"]
    assert not saved.fields[-1].required


def test_the_add_row_button_offers_more_rows_and_saves_nothing(
    portal: Portal, session: Session
) -> None:
    client = portal("operator")
    values = form_values(client.get("/catalog/honour/edit").text)
    values["name_zh"] = "荣誉表彰（草稿）"
    values["action"] = "add_row"
    rows_before = len({k.split(".")[1] for k in values if k.startswith("fields.")})
    response = client.post("/catalog/honour/edit", data=values)
    assert response.status_code == 200
    again = form_values(response.text)
    assert again["name_zh"] == "荣誉表彰（草稿）"
    assert len({k.split(".")[1] for k in again if k.startswith("fields.")}) == rows_before + 1
    assert _category(session, "honour").version == 1


def _row_of(values: dict[str, str], name: str) -> int:
    return next(
        int(k.split(".")[1]) for k, v in values.items() if k.endswith(".name") and v == name
    )


MISTAKES: list[tuple[str, Callable[[dict[str, str]], str], str]] = [
    ("empty Chinese name", lambda v: v.update(name_zh="") or "name_zh", "不能为空"),
    ("no sharing type", lambda v: v.update(sharing_type="") or "sharing_type", "此项为必填项"),
    (
        "a disclosure period that is no number",
        lambda v: v.update(disclosure_days="三年") or "disclosure_days",
        "必须是整数",
    ),
    (
        "a disclosure period of zero",
        lambda v: v.update(disclosure_days="0") or "disclosure_days",
        "不能小于 1",
    ),
    (
        "an unknown key field",
        lambda v: v.update(key_fields="credit_code, nope") or "key_fields",
        "关键字段 nope 不是本类别的字段",
    ),
    (
        "a field name that is not snake_case",
        lambda v: v.update({"fields.2.name": "Tax Grade"}) or "fields.2.name",
        "必须是 snake_case ASCII",
    ),
    (
        "an existing field changing its type",
        lambda v: (
            v.update({f"fields.{_row_of(v, 'grade')}.type": "integer"})
            or f"fields.{_row_of(v, 'grade')}.type"
        ),
        "字段 grade 的类型不能从 enum 改为 integer",
    ),
    (
        "an enum without values",
        lambda v: (
            v.update({f"fields.{_row_of(v, 'grade')}.allowed_values": ""})
            or f"fields.{_row_of(v, 'grade')}.allowed_values"
        ),
        "枚举字段需要允许值",
    ),
    (
        "a minimum that is no number",
        lambda v: (
            v.update({f"fields.{_row_of(v, 'year')}.minimum": "很多"})
            or f"fields.{_row_of(v, 'year')}.minimum"
        ),
        "必须是数字",
    ),
    (
        "a header meaning two fields",
        lambda v: (
            v.update({"fields.2.aliases": v["fields.2.aliases"] + ", 统一社会信用代码"})
            or "fields.2.aliases"
        ),
        "同时指向 credit_code 和",
    ),
    (
        "a new field without a Chinese label",
        lambda v: (
            v.update(
                {
                    "fields.99.name": "remark",
                    "fields.99.label_en": "Remark",
                    "fields.99.type": "text",
                }
            )
            or "fields.99.label_zh"
        ),
        "不能为空",
    ),
    (
        "the subject's credit code made optional",
        lambda v: v.pop("fields.0.required") and "fields.0.required",
        "类别必须有一个必填的 credit_code 字段",
    ),
    (
        "the subject's credit code removed",
        lambda v: v.update({"fields.0.remove": "on"}) or "fields",
        "类别必须有一个必填的 credit_code 字段",
    ),
    (
        "a note that is too long",
        lambda v: v.update(note="长" * 501) or "note",
        "最多 500 个字符",
    ),
]


@pytest.mark.parametrize(
    ("change", "reason"),
    [(m[1], m[2]) for m in MISTAKES],
    ids=[m[0] for m in MISTAKES],
)
def test_each_mistake_is_shown_next_to_its_field_and_changes_nothing(
    portal: Portal, session: Session, change: Callable[[dict[str, str]], str], reason: str
) -> None:
    client = portal("operator")
    values = form_values(client.get("/catalog/tax_rating/edit").text)
    values["name_en"] = "Typed but not saved"
    field = change(values)
    versions = _count(session, CategoryVersion)
    response = client.post("/catalog/tax_rating/edit", data=values)
    assert response.status_code == 422, response.text
    assert reason in _error(response.text, field)
    kept = form_values(response.text)
    for name, value in values.items():
        if name not in ("csrf_token", "action") and not name.endswith(".remove"):
            assert kept.get(name, "") == value.strip(), name
    assert _count(session, CategoryVersion) == versions
    category = _category(session, "tax_rating")
    assert category.version == 1
    assert category.name_en == "Tax credit rating"


def test_several_mistakes_are_shown_at_once(portal: Portal) -> None:
    client = portal("operator")
    values = form_values(client.get("/catalog/tax_rating/edit").text)
    values |= {"name_en": "", "fields.1.label_zh": "", "fields.2.name": "Bad"}
    html = client.post("/catalog/tax_rating/edit", data=values).text
    assert _error(html, "name_en") == "不能为空"
    assert _error(html, "fields.1.label_zh") == "不能为空"
    assert "snake_case" in _error(html, "fields.2.name")


def test_errors_follow_the_language(portal: Portal) -> None:
    client = portal("operator")
    client.get("/lang/en")
    values = form_values(client.get("/catalog/tax_rating/edit").text)
    values["key_fields"] = "nope"
    html = client.post("/catalog/tax_rating/edit", data=values).text
    assert _error(html, "key_fields") == "key field nope is not a field of the category"
    assert "Save as a new version" in html


def test_retire_and_restore(portal: Portal, session: Session) -> None:
    client = portal("operator")
    page = client.get("/catalog/honour").text
    response = client.post(
        "/catalog/honour/retire", data={"csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert response.headers["location"] == "/catalog/honour?done=retired"
    retired = client.get(response.headers["location"]).text
    assert "该类别已停用" in retired
    assert 'data-testid="restore"' in retired
    assert _category(session, "honour").active is False
    assert _codes(client.get("/catalog", params={"state": "retired"}).text) == ["honour"]
    assert "honour" not in _codes(client.get("/catalog", params={"state": "active"}).text)
    response = client.post(
        "/catalog/honour/restore", data={"csrf_token": csrf_of(retired)}, follow_redirects=False
    )
    assert response.headers["location"] == "/catalog/honour?done=restored"
    assert _category(session, "honour").active is True
    assert _category(session, "honour").version == 1  # retiring is a state, not a new spec


def test_forms_without_the_csrf_token_are_refused(portal: Portal, session: Session) -> None:
    client = portal("operator")
    assert client.post("/catalog/honour/retire", data={}).status_code == 403
    values = form_values(client.get("/catalog/honour/edit").text)
    values["name_en"] = "Forged"
    values["csrf_token"] = "not-the-token"
    assert client.post("/catalog/honour/edit", data=values).status_code == 403
    new = _new_category_form(client)
    del new["csrf_token"]
    assert client.post("/catalog/new", data=new).status_code == 403
    category = _category(session, "honour")
    assert (category.active, category.name_en, category.version) == (True, "Honours", 1)
    assert catalog_service.get_by_code(session, code="green_credit") is None


@pytest.mark.parametrize("username", ["auditor", "provider-tax", "bank"])
def test_only_the_operator_may_edit(portal: Portal, session: Session, username: str) -> None:
    operator_values = form_values(portal("operator").get("/catalog/honour/edit").text)
    client = portal(username)
    token = csrf_of(client.get("/catalog/honour").text)
    assert client.get("/catalog/new").status_code == 403
    assert client.get("/catalog/honour/edit").status_code == 403
    edited = operator_values | {"csrf_token": token, "name_en": "Changed"}
    assert client.post("/catalog/honour/edit", data=edited).status_code == 403
    assert client.post("/catalog/honour/retire", data={"csrf_token": token}).status_code == 403
    assert client.post("/catalog/new", data=edited | {"code": "sneaky"}).status_code == 403
    category = _category(session, "honour")
    assert (category.active, category.name_en, category.version) == (True, "Honours", 1)


def test_every_form_field_has_a_label(portal: Portal) -> None:
    html = portal("operator").get("/catalog/tax_rating/edit").text
    ids = set(re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', html))
    labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
    assert ids
    assert ids <= labelled

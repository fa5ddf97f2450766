"""Grading from the catalogue, desensitization per field type, and the rules as data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import XydEnv
from xinyidai.catalog import service as catalog_service
from xinyidai.core.errors import ValidationFailed
from xinyidai.privacy import masking, service
from xinyidai.privacy.schemas import TypeRule

EDGES = ["10000", "50000", "100000", "500000", "1000000"]


def _spec(code: str):  # type: ignore[no-untyped-def]
    return next(s for s in catalog_service.default_specs() if s.code == code)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("450103199001011234", "450***********1234"),
        ("13812345678", "138****5678"),
        ("0771-5551234", "077*****1234"),
        ("12", "1*"),
        ("7", "*"),
    ],
)
def test_identity_numbers_and_phones_keep_their_ends(value: str, expected: str) -> None:
    assert masking.mask(value, 3, 4) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张三", "张*"),
        ("李建国", "李**"),
        ("欧阳娜娜", "欧***"),
        ("王", "*"),
        ("John Smith", "J*** S****"),
    ],
)
def test_names_of_natural_persons_keep_the_first_character(name: str, expected: str) -> None:
    assert masking.mask_name(name, 1) == expected


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0", "0-10000"),
        ("9999.99", "0-10000"),
        ("10000", "10000-50000"),
        ("123456.78", "100000-500000"),
        ("1000000", "1000000+"),
        ("not a number", "***"),
    ],
)
def test_amounts_fall_into_buckets(amount: str, expected: str) -> None:
    assert masking.bucket(amount, EDGES) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("广西壮族自治区南宁市青秀区民族大道100号", "广西壮族自治区南宁市青秀区"),
        ("宁夏回族自治区银川市兴庆区解放西街1号", "宁夏回族自治区银川市兴庆区"),
        ("北京市朝阳区建国路88号", "北京市朝阳区"),
        ("广东省广州市天河区天河路1号", "广东省广州市天河区"),
        ("广西壮族自治区桂林市荔浦市新城路2号", "广西壮族自治区桂林市荔浦市"),
        ("内蒙古自治区锡林郭勒盟正蓝旗上都镇", "内蒙古自治区锡林郭勒盟正蓝旗"),
        ("民族大道100号", "***"),
    ],
)
def test_addresses_are_cut_after_the_district(address: str, expected: str) -> None:
    assert masking.district(address) == expected


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False))
def test_every_amount_lies_in_its_bucket(amount: object) -> None:
    shown = masking.bucket(amount, EDGES)
    low, _, high = shown.rstrip("+").partition("-")
    assert float(low) <= float(str(amount))
    if high:
        assert float(str(amount)) < float(high)


@given(st.text(min_size=1, max_size=30))
def test_a_masked_value_never_shows_more_than_its_ends(text: str) -> None:
    shown = masking.mask(text, 3, 4)
    assert len(shown) == len(text)
    if len(text) > 7:
        assert shown[3:-4] == "*" * (len(text) - 7)


def test_grades_come_from_the_catalogue() -> None:
    tax = service.classify(_spec("tax_payment"))
    assert (tax.level, tax.sharing_type, tax.public) == ("confidential", "conditional", False)
    fields = {f.name: f for f in tax.fields}
    assert (fields["tax_paid"].grade, fields["tax_paid"].method) == ("confidential", "bucket")
    assert fields["tax_item"].rule_type is None
    registration = {f.name: f for f in service.classify(_spec("registration")).fields}
    # a legal representative's name is published with the registration (公示): public
    representative = registration["legal_representative"]
    assert (representative.grade, representative.method, representative.published) == (
        "public",
        "mask_name",
        True,
    )
    assert registration["phone"].grade == "personal"
    assert registration["phone"].published is False
    assert registration["address"].grade == "public"
    holders = {f.name: f for f in service.classify(_spec("shareholder")).fields}
    assert holders["shareholder_name"].grade == "personal"
    assert holders["shareholder_name"].when is not None


def test_a_view_shows_raw_what_it_is_entitled_to_and_desensitizes_the_rest() -> None:
    spec = _spec("registration")
    data = {
        "credit_code": "91450100MA5K00001E",
        "legal_representative": "李建国",
        "phone": "13812345678",
        "address": "广西壮族自治区南宁市青秀区民族大道100号",
        "registered_capital": "5000000.00",
        "old_field": "from an earlier version",
    }
    public = service.show(data, service.view_of(spec, raw_levels=frozenset({"public"})))
    assert public == {
        "credit_code": "91450100MA5K00001E",
        "legal_representative": "李建国",
        "phone": "138****5678",
        "address": "广西壮族自治区南宁市青秀区民族大道100号",
        "registered_capital": "5000000.00",
    }
    full = service.show(data, service.view_of(spec, raw_levels=service.ALL_LEVELS))
    assert full == data
    withheld = service.show(
        data, service.view_of(spec, raw_levels=service.ALL_LEVELS, withhold=True)
    )
    assert withheld == {}


def test_a_conditional_rule_masks_only_natural_persons() -> None:
    view = service.view_of(_spec("shareholder"), raw_levels=frozenset({"public"}))
    person = {"shareholder_name": "李建国", "shareholder_type": "自然人股东"}
    company = {"shareholder_name": "南宁投资集团有限公司", "shareholder_type": "企业法人"}
    assert service.show(person, view)["shareholder_name"] == "李**"
    assert service.show(company, view)["shareholder_name"] == "南宁投资集团有限公司"


def test_the_rules_file_is_checked_and_can_be_replaced(tmp_path: Path, xyd_env: XydEnv) -> None:
    document = json.loads(service.DEFAULT_RULES.read_text(encoding="utf-8"))
    document["types"]["phone"] = {"method": "mask", "keep_start": 0, "keep_end": 2}
    custom = tmp_path / "rules.json"
    custom.write_text(json.dumps(document), encoding="utf-8")
    xyd_env(XYD_PRIVACY_RULES_FILE=str(custom))
    assert service.rules().types["phone"] == TypeRule(method="mask", keep_start=0, keep_end=2)
    view = service.view_of(_spec("registration"), raw_levels=frozenset({"public"}))
    assert service.show({"phone": "13812345678"}, view) == {"phone": "*********78"}
    document["types"]["telepathy"] = {"method": "mask"}
    custom.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        service.rules()
    assert caught.value.field == "types.telepathy"
    document["types"].pop("telepathy")
    document["types"]["money"]["edges"] = ["500", "100"]
    custom.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        service.rules()
    assert caught.value.field == "types.money.edges"
    document["types"]["money"]["edges"] = ["100", "500"]
    document["published"].append(
        {"category": "shareholder", "field": "shareholder_name", "why": "contradiction"}
    )
    custom.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        service.rules()
    assert caught.value.field == "published.1"
    document["published"] = []
    custom.write_text(json.dumps(document), encoding="utf-8")
    # without the published rule the name is personal information again, in every view
    view = service.view_of(_spec("registration"), raw_levels=frozenset({"public"}))
    assert service.show({"legal_representative": "李建国"}, view) == {
        "legal_representative": "李**"
    }


def test_every_member_reads_the_rules_and_grades(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    rules = client.get("/api/v1/privacy/rules", headers=auth("bank"))
    assert rules.status_code == 200
    assert rules.json()["types"]["person_name"]["method"] == "mask_name"
    grades = client.get("/api/v1/privacy/grades", headers=auth("operator")).json()
    assert {g["code"]: g["level"] for g in grades}["social_insurance"] == "confidential"
    assert client.get("/api/v1/privacy/rules").status_code == 401

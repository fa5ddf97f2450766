"""The registry service over a real database session."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from xinyidai.core.errors import Conflict, NotFound, ValidationFailed
from xinyidai.registry import service
from xinyidai.registry.models import Enterprise, SubjectKind, SubjectStatus
from xinyidai.registry.schemas import EnterpriseIn

from .helpers import code_for, enterprise_in


def seed(session: Session) -> list[Enterprise]:
    rows = [
        enterprise_in("640104", 1, "宁夏兴庆商贸有限公司", industry_code="5211"),
        enterprise_in("640105", 2, "银川西夏软件有限公司", industry_code="6513"),
        enterprise_in("640205", 3, "石嘴山惠农煤炭有限公司", industry_code="0610"),
        enterprise_in("500110", 4, "重庆綦江建材有限公司", industry_code="5165"),
        enterprise_in("500111", 5, "重庆大足五金有限公司", industry_code="5211"),
        enterprise_in("110105", 6, "北京朝阳科技有限公司", industry_code="6513"),
    ]
    created = [service.create(session, data=row) for row in rows]
    session.commit()
    return created


def test_create_stores_the_subject_and_derives_its_kind(session: Session) -> None:
    data = enterprise_in(
        "640104",
        1,
        "宁夏兴庆商贸有限公司",
        industry_code="5211",
        registered_capital=Decimal("500000.00"),
    )
    enterprise = service.create(session, data=data)
    assert enterprise.id is not None
    assert enterprise.kind == SubjectKind.ENTERPRISE
    assert enterprise.status == SubjectStatus.ACTIVE
    assert enterprise.registered_capital == Decimal("500000.00")
    assert service.get_by_code(session, credit_code=data.credit_code) is enterprise
    assert service.count(session) == 1


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [
        ("91", SubjectKind.ENTERPRISE),
        ("92", SubjectKind.INDIVIDUAL),
        ("93", SubjectKind.COOPERATIVE),
        ("51", "other"),
    ],
)
def test_kind_follows_the_first_two_characters(session: Session, prefix: str, kind: str) -> None:
    data = enterprise_in("640104", 7, "主体", kind_prefix=prefix)
    assert service.create(session, data=data).kind == kind


def test_duplicate_code_is_a_conflict_and_changes_nothing(session: Session) -> None:
    first = service.create(session, data=enterprise_in("640104", 1, "原名称有限公司"))
    session.commit()
    with pytest.raises(Conflict) as caught:
        service.create(session, data=enterprise_in("640104", 1, "新名称有限公司"))
    assert caught.value.field == "credit_code"
    assert caught.value.params == {"credit_code": first.credit_code}
    session.rollback()
    assert service.count(session) == 1
    stored = service.get_by_code_or_raise(session, credit_code=first.credit_code)
    assert stored.name == "原名称有限公司"


def test_get_by_code_or_raise_finds_by_a_lower_case_code(session: Session) -> None:
    created = service.create(session, data=enterprise_in("640104", 1, "宁夏兴庆商贸有限公司"))
    found = service.get_by_code_or_raise(session, credit_code=created.credit_code.lower())
    assert found.id == created.id


def test_get_by_code_or_raise_unknown_code_is_not_found(session: Session) -> None:
    unknown = code_for("640104", 99)
    with pytest.raises(NotFound) as caught:
        service.get_by_code_or_raise(session, credit_code=unknown)
    assert caught.value.field == "credit_code"
    assert caught.value.params == {"credit_code": unknown}


def test_get_by_code_or_raise_malformed_code_is_a_validation_failure(session: Session) -> None:
    with pytest.raises(ValidationFailed) as caught:
        service.get_by_code_or_raise(session, credit_code="91350100M000100Y44")
    assert caught.value.field == "credit_code"
    assert caught.value.params == {"expected": "3", "actual": "4"}


def test_enterprise_in_refuses_unknown_region_industry_and_bad_code() -> None:
    with pytest.raises(ValidationError, match="unknown GB/T 2260 region code 999999"):
        enterprise_in("640104", 1, "x", region_code="999999")
    with pytest.raises(ValidationError, match="unknown GB/T 4754 industry code 5210"):
        enterprise_in("640104", 1, "x", industry_code="5210")
    with pytest.raises(ValidationError, match="wrong check character"):
        EnterpriseIn(credit_code="91350100M000100Y44", name="x")
    assert enterprise_in("640104", 1, "x", industry_code="f").industry_code == "F"


def test_search_by_part_of_the_name(session: Session) -> None:
    seed(session)
    rows, total = service.search(session, q="软件")
    assert total == 1
    assert [row.name for row in rows] == ["银川西夏软件有限公司"]


def test_search_by_the_start_of_the_code(session: Session) -> None:
    created = seed(session)
    rows, total = service.search(session, q="91640")
    assert total == 3
    assert {row.region_code for row in rows} == {"640104", "640105", "640205"}
    rows, total = service.search(session, q=created[0].credit_code.lower())
    assert [row.id for row in rows] == [created[0].id]


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("640000", {"640104", "640105", "640205"}),
        ("640100", {"640104", "640105"}),
        ("640104", {"640104"}),
        ("500000", {"500110", "500111"}),
        ("500110", {"500110"}),
        ("110000", {"110105"}),
        ("650000", set()),
    ],
)
def test_search_by_region_prefix(session: Session, region: str, expected: set[str]) -> None:
    seed(session)
    rows, total = service.search(session, region=region)
    assert {row.region_code for row in rows} == expected
    assert total == len(expected)


def test_search_by_industry(session: Session) -> None:
    seed(session)
    rows, total = service.search(session, industry="5211")
    assert total == 2
    assert {row.region_code for row in rows} == {"640104", "500111"}
    rows, total = service.search(session, industry="6513", region="640000")
    assert total == 1


def test_search_pages_keep_the_total(session: Session) -> None:
    created = seed(session)
    in_order = sorted(e.credit_code for e in created)
    pages = [service.search(session, page=page, size=4) for page in (1, 2, 3)]
    assert [total for _, total in pages] == [6, 6, 6]
    assert [len(rows) for rows, _ in pages] == [4, 2, 0]
    assert [row.credit_code for rows, _ in pages for row in rows] == in_order


def test_upsert_creates_then_updates_only_the_fields_given(session: Session) -> None:
    data = enterprise_in("640104", 1, "宁夏兴庆商贸有限公司", industry_code="5211")
    created, was_created = service.upsert(session, data=data)
    assert was_created
    update = EnterpriseIn(
        credit_code=data.credit_code.lower(),
        name="宁夏兴庆商贸集团有限公司",
        registered_capital=Decimal("1000000"),
    )
    updated, was_created = service.upsert(session, data=update)
    assert not was_created
    assert updated.id == created.id
    assert updated.name == "宁夏兴庆商贸集团有限公司"
    assert updated.registered_capital == Decimal("1000000")
    assert updated.industry_code == "5211"
    assert updated.region_code == "640104"
    assert service.count(session) == 1


def test_check_code_explains_the_parts() -> None:
    result = service.check_code(raw="91350100m000100y43")
    assert result.valid
    assert result.code == "91350100M000100Y43"
    assert result.authority == "市场监管"
    assert result.organization_type == "企业"
    assert (result.region_code, result.region_name) == ("350100", "福州市")
    assert result.check_character == "3"
    bad = service.check_code(raw="91350100M000100Y44")
    assert not bad.valid
    assert bad.reason == "wrong check character: expected 3, got 4"
    assert bad.authority is None


@pytest.mark.postgres
def test_create_conflict_and_search_on_postgresql(pg_url: str) -> None:
    from xinyidai.core import db as core_db

    session = core_db.new_session()
    try:
        seed(session)
        rows, total = service.search(session, region="500110")
        assert [row.region_code for row in rows] == ["500110"]
        assert total == 1
        rows, total = service.search(session, q="有限公司", region="640000", size=2)
        assert (len(rows), total) == (2, 3)
        with pytest.raises(Conflict):
            service.create(session, data=enterprise_in("640104", 1, "重复"))
        session.rollback()
        assert service.count(session) == 6
    finally:
        session.rollback()
        session.close()


def test_a_registration_completes_a_subject_it_found_missing_but_another_file_added(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Side by side, another file may add a subject (as a mention, with what it knows)
    between the registration's lookup and its insert: the registration then completes that
    subject, and a field the registration leaves blank keeps what is there."""
    from datetime import date

    code = code_for("640104", 77)
    service.sync_subjects(session, mentions={code: "别处提到的名称"})
    mentioned = service.get_by_code(session, credit_code=code)
    assert mentioned is not None
    mentioned.legal_representative = "张三"
    session.commit()
    # The registration's lookup does not see it yet.
    monkeypatch.setattr(service, "lookup_chunks", lambda *args: iter(()))
    outcome = service.sync_subjects(
        session,
        registrations=[
            {
                "credit_code": code,
                "name": "登记的名称有限公司",
                "region_code": "640104",
                "industry_code": "F5211",
                "legal_representative": None,
                "registered_capital": Decimal("1000000.50"),
                "established_on": date(2019, 3, 8),
                "address": "银川市兴庆区",
            }
        ],
    )
    session.commit()
    assert outcome == {"created": 1, "updated": 0}
    session.expire_all()
    subject = service.get_by_code(session, credit_code=code)
    assert subject is not None
    assert (subject.status, subject.name, subject.legal_representative) == (
        SubjectStatus.ACTIVE,
        "登记的名称有限公司",
        "张三",
    )
    assert (subject.registered_capital, subject.established_on, subject.industry_code) == (
        Decimal("1000000.50"),
        date(2019, 3, 8),
        "F5211",
    )
    assert session.query(Enterprise).count() == 1

"""Keys records are matched on: normalized, never a name alone, hubs left out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.graph.records import code
from xinyidai.graph import links


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("宁夏回族自治区银川市兴庆区解放西街１２号", "宁夏回族自治区银川市兴庆区解放西街12号"),
        (" 宁夏回族自治区 银川市兴庆区解放西街12号 ", "宁夏回族自治区银川市兴庆区解放西街12号"),
        ("银川市金凤区（阅海湾）ｃｂｄ  Ａ座１０１室", "银川市金凤区阅海湾CBDA座101室"),
        ("银川市兴庆区解放西街", None),  # no number: a street, not a place
        ("12号", None),  # too short to be an address
        (None, None),
    ],
)
def test_addresses_are_normalized_before_matching(raw: str | None, expected: str | None) -> None:
    assert links.normalize_address(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 139 1234 5678", "13912345678"),
        ("８６13912345678", "13912345678"),
        ("0951-6012345", "09516012345"),
        ("12345", None),
        ("", None),
    ],
)
def test_phones_are_matched_on_their_digits(raw: str, expected: str | None) -> None:
    assert links.normalize_phone(raw) == expected


def test_a_name_is_matched_only_within_its_county() -> None:
    same_county = [
        links.SubjectLinks(code=code(1), region="640104", representative="王 伟"),
        links.SubjectLinks(code=code(2), region="640104", representative="王伟"),
    ]
    other_county = links.SubjectLinks(
        code=code(3, "640105"), region="640105", representative="王伟"
    )
    found = links.links_among({s.code: s for s in [*same_county, other_county]})
    assert [(f.source, f.target, f.kind) for f in found] == [
        (code(1), code(2), links.REPRESENTATIVE)
    ]
    assert found[0].detail == {"basis": "name+county", "value": "王伟", "county": "640104"}


def test_the_county_comes_from_the_credit_code_without_a_registration() -> None:
    assert links.SubjectLinks(code=code(1, "640302")).county == "640302"


def test_middle_dots_of_minority_names_are_one() -> None:
    assert links.normalize_person("买买提•艾力") == links.normalize_person("买买提·艾力")


def test_a_key_shared_by_too_many_links_nobody() -> None:
    agent = "宁夏回族自治区银川市金凤区创业大厦8号楼1201室"
    subjects = {
        code(n): links.SubjectLinks(code=code(n), address=agent, representative=f"甲{n}")
        for n in range(1, links.MAX_GROUP + 2)
    }
    assert links.links_among(subjects) == []
    few = dict(list(subjects.items())[:3])
    assert {f.kind for f in links.links_among(few)} == {links.ADDRESS}
    assert len(links.links_among(few)) == 3


def test_index_keys_hold_digests_not_names_or_phones() -> None:
    subject = links.SubjectLinks(
        code=code(1), region="640104", representative="王伟", phone="13912345678"
    )
    for kind, key in subject.index_keys():
        assert "王伟" not in key, kind
        assert "1391234" not in key, kind


def test_a_corporate_shareholder_is_known_by_its_code_whatever_its_type_says() -> None:
    subjects = links.collect(
        [
            (
                code(2),
                links.SHAREHOLDER,
                {"shareholder_name": "宁夏投资有限公司", "shareholder_code": code(1)},
                None,
            ),
            (
                code(2),
                links.SHAREHOLDER,
                {"shareholder_name": "张三", "shareholder_type": "自然人股东"},
                None,
            ),
        ]
    )
    assert [h.holder for h in subjects[code(2)].holders] == [code(1)]
    assert [p.name for p in subjects[code(2)].persons] == ["张三"]


def test_released_guarantees_are_not_in_force() -> None:
    base = {"borrower_code": code(2), "contract_number": "C1", "amount": "10.00"}
    subjects = links.collect(
        [
            (code(1), links.GUARANTEE_CATEGORY, base | {"status": "已解除"}, None),
            (code(1), links.GUARANTEE_CATEGORY, base | {"contract_number": "C2"}, None),
        ]
    )
    assert [g.in_force for g in subjects[code(1)].guarantees] == [False, True]
    detail = links.guarantee_detail(subjects[code(1)].guarantees)
    assert detail["amount"] == str(Decimal("10.00"))
    assert detail["contracts"] == ["C1", "C2"]


def test_a_listing_that_ended_is_not_a_bad_signal() -> None:
    rows = [
        (code(1), "abnormal_operation", {"removed_on": "2025-01-01"}, date(2024, 1, 1)),
        (code(2), "abnormal_operation", {"removed_on": None}, date(2024, 3, 1)),
        (code(3), "court_enforcement", {"status": "已结案"}, date(2024, 1, 1)),
        (code(4), "court_enforcement", {"status": "执行中"}, date(2025, 5, 1)),
        (code(4), "court_enforcement", {"status": "执行中"}, date(2025, 9, 1)),
        (code(4), "dishonest_debtor", {}, None),
        (code(5), "tax_rating", {"grade": "D"}, date(2025, 4, 1)),
    ]
    assert links.bad_signals(rows) == {
        code(2): {"abnormal_operation": date(2024, 3, 1)},
        code(4): {"court_enforcement": date(2025, 9, 1), "dishonest_debtor": None},
    }

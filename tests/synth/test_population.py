"""The clean master records: valid codes, real regions and industries, realistic rates."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.synth.conftest import SEED, SIZE
from tests.synth.reading import read_feed, truth_rows
from xinyidai.registry import codes, creditcode
from xinyidai.synth import SynthEnterprise, population
from xinyidai.synth.enterprises import associates, build_block, distressed
from xinyidai.synth.feeds import FEEDS

KIND_PREFIX = {"enterprise": "91", "individual_business": "92", "cooperative": "93"}


def _population(size: int = SIZE, seed: int = SEED) -> list[SynthEnterprise]:
    return list(population(enterprises=size, seed=seed))


def test_population_is_stable_and_sized() -> None:
    first = _population(500, 3)
    assert len(first) == 500
    assert first == _population(500, 3)
    assert first != _population(500, 4)
    assert list(population(enterprises=0, seed=3)) == []
    with pytest.raises(ValueError, match="enterprises must be from 0"):
        next(population(enterprises=-1, seed=3))


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**63))
def test_every_credit_code_is_valid_unique_and_matches_its_subject(seed: int) -> None:
    counties = {code.code for code in codes.counties_of("64")}
    people = _population(120, seed)
    assert len({p.credit_code for p in people}) == len(people)
    assert len({p.name for p in people}) == len(people)
    for person in people:
        code = creditcode.parse(person.credit_code)
        assert code.code[:2] == KIND_PREFIX[person.kind]
        assert code.region_code == person.region_code
        assert person.region_code in counties
        subject = code.organization_code
        assert creditcode.organization_check_character(subject[:8]) == subject[8]
        assert codes.is_industry(person.industry_code)
        assert codes.industry(person.industry_code) is not None


def test_kinds_industries_and_amounts_are_plausible() -> None:
    people = _population()
    kinds = Counter(p.kind for p in people)
    assert 0.30 <= kinds["individual_business"] / len(people) <= 0.42
    assert 0 < kinds["cooperative"] / len(people) <= 0.08
    sections = Counter(codes.industry_section(p.industry_code).code for p in people)  # type: ignore[union-attr]
    top = {letter for letter, _ in sections.most_common(3)}
    assert top & {"F", "A", "C", "E", "H"}
    for person in people:
        assert person.registered_capital > 0
        assert person.registered_capital.as_tuple().exponent == -2  # yuan with two decimals
        assert person.legal_representative
        assert person.address.startswith("宁夏回族自治区")
        assert person.phone.isdigit()
        assert len(person.phone) == 11


def test_some_enterprises_share_representatives_and_addresses() -> None:
    people = _population()
    by_rep = Counter(p.legal_representative for p in people)
    by_address = Counter(p.address for p in people)
    assert sum(1 for count in by_rep.values() if count > 1) >= 0.02 * len(people)
    assert sum(1 for count in by_address.values() if count > 1) >= 0.01 * len(people)


def test_default_rate_is_realistic_and_follows_the_signals() -> None:
    people = _population(6000, 11)
    rate = sum(p.defaulted for p in people) / len(people)
    assert 0.03 <= rate <= 0.07

    def default_rate(group: list[SynthEnterprise]) -> float:
        return sum(p.defaulted for p in group) / len(group)

    enforced = [p for p in people if p.signals.enforcement_cases]
    clean = [
        p
        for p in people
        if not p.signals.enforcement_cases
        and not p.signals.penalties
        and p.signals.tax_grade in ("A", "B")
    ]
    assert default_rate(enforced) > 2 * default_rate(clean)
    grade_d = [p for p in people if p.signals.tax_grade in ("C", "D")]
    grade_a = [p for p in people if p.signals.tax_grade == "A"]
    assert default_rate(grade_d) > default_rate(grade_a)
    # noise: some clean enterprises default and most risky ones do not
    assert 0 < default_rate(clean) < default_rate(enforced) < 0.8


def test_related_enterprises_are_the_same_person_a_shareholding_or_a_guarantee() -> None:
    block = build_block(11, 0, 0, 3000)
    expected: set[tuple[int, int]] = set()
    corporate = block.sh_corporate
    relations = [
        *zip(block.g_guarantor.tolist(), block.g_borrower.tolist(), strict=True),
        *zip(
            block.sh_owner[corporate].tolist(), block.sh_investor[corporate].tolist(), strict=True
        ),
    ]
    for one, other in relations:
        expected |= {(one, other), (other, one)}
    people: dict[int, list[int]] = defaultdict(list)
    for subject, person in enumerate(block.person.tolist()):
        people[person].append(subject)
    for members in people.values():
        # the same person: the same name on both registrations
        assert len({block.representative[m] for m in members}) == 1
        expected |= {(one, other) for one in members for other in members}
    expected = {(one, other) for one, other in expected if one != other}
    pairs = {(int(one), int(other)) for one, other in associates(block).tolist()}
    assert pairs == expected
    assert sum(len(m) > 1 for m in people.values()) > 50
    bad = distressed(block)
    for subject in range(len(block)):
        count = sum(1 for one, other in pairs if one == subject and bad[other])
        assert block.distressed_associates[subject] == count


def test_distress_of_related_enterprises_raises_the_default_rate() -> None:
    people = _population(20_000, 11)
    exposed = [p for p in people if p.signals.distressed_associates]
    others = [p for p in people if not p.signals.distressed_associates]
    assert 0.01 < len(exposed) / len(people) < 0.05
    for person in people:
        assert person.signals.distressed == bool(
            person.signals.enforcement_cases
            or person.signals.dishonest_debtor
            or person.signals.abnormal_operation
        )

    def default_rate(group: list[SynthEnterprise]) -> float:
        return sum(p.defaulted for p in group) / len(group)

    assert default_rate(exposed) > 1.5 * default_rate(others)


def test_signal_rates_are_realistic() -> None:
    people = _population(6000, 11)
    n = len(people)
    grades = Counter(p.signals.tax_grade for p in people if p.signals.tax_grade)
    rated = sum(grades.values())
    assert set(grades) == {"A", "B", "M", "C", "D"}
    assert grades["B"] / rated > 0.4
    assert grades["D"] / rated < 0.1
    assert 0.01 < sum(p.signals.enforcement_cases > 0 for p in people) / n < 0.08
    assert 0.02 < sum(p.signals.penalties > 0 for p in people) / n < 0.15
    assert 0.01 < sum(p.signals.social_insurance_arrears_months > 0 for p in people) / n < 0.1
    assert 0.02 < sum(p.signals.utility_arrears_months > 0 for p in people) / n < 0.12
    assert any(p.signals.in_guarantee_circle for p in people)


def _clean_rows(out: Path, category: str) -> list[list[Any]]:
    spec = next(s for s in FEEDS if s.category == category)
    bad = {(r["line"], r["index"]) for r in truth_rows(out) if r["path"] == spec.path}
    return [values for locator, values in read_feed(out, spec) if locator not in bad]


def test_registration_feed_carries_the_population(region: tuple[Path, dict[str, Any]]) -> None:
    out, _ = region
    people = {p.credit_code: p for p in _population()}
    rows = _clean_rows(out, "registration")
    assert len(rows) > 0.95 * len(people)
    for row in rows:
        person = people[row[0]]
        assert row[1] == person.name
        assert row[3] == person.legal_representative
        assert row[4] == f"{person.registered_capital:.2f}"
        assert row[5] == person.established_on.isoformat()
        assert row[7] == person.region_code
        assert row[8] == person.industry_code


def test_defaults_truth_matches_the_population(region: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = region
    with (out / "truth/defaults.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    people = _population()
    assert [(r["credit_code"], r["defaulted"]) for r in rows] == [
        (p.credit_code, str(int(p.defaulted))) for p in people
    ]
    assert manifest["counts"]["defaulted"] == sum(p.defaulted for p in people)


def test_shareholder_ratios_add_up_to_one_hundred(region: tuple[Path, dict[str, Any]]) -> None:
    out, _ = region
    total: dict[str, int] = defaultdict(int)
    corporate = 0
    for row in _clean_rows(out, "shareholder"):
        total[row[0]] += int(row[7].replace(".", ""))
        if row[3] == "企业法人":
            corporate += 1
            assert creditcode.is_valid(row[5])
    assert corporate > 0
    people = {p.credit_code: p for p in _population()}
    complete = [code for code, bp in total.items() if bp == 10_000]
    assert len(complete) > 0.9 * len(total)
    assert all(people[code].kind == "enterprise" for code in total)


def test_guarantee_feed_has_chains_and_circles(region: tuple[Path, dict[str, Any]]) -> None:
    out, _ = region
    edges: dict[str, set[str]] = defaultdict(set)
    for row in _clean_rows(out, "guarantee"):
        if row[2] and row[4]:
            edges[row[2]].add(row[4])

    def reaches(start: str, target: str) -> bool:
        stack, seen = list(edges[start]), set()
        while stack:
            node = stack.pop()
            if node == target:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(edges.get(node, ()))
        return False

    chained = [a for a in edges for b in edges[a] if edges.get(b)]
    assert chained, "some borrower is itself a guarantor"
    assert any(reaches(node, node) for node in list(edges)), "a guarantee circle"


def test_tiny_regions_are_generated_whatever_the_seed() -> None:
    for seed in range(12):
        for size in (1, 2, 5):
            people = _population(size, seed)
            assert len(people) == size
            assert all(creditcode.is_valid(p.credit_code) for p in people)


def test_the_truth_lists_every_planted_guarantee_circle(
    region: tuple[Path, dict[str, Any]],
) -> None:
    out, manifest = region
    clean = {row[0]: row for row in _clean_rows(out, "guarantee")}
    with (out / "truth" / "guarantee_circles.csv").open(encoding="utf-8") as handle:
        circles = list(csv.DictReader(handle))
    assert manifest["truth"]["guarantee_circles"] == "truth/guarantee_circles.csv"
    assert len(circles) == manifest["counts"]["guarantee_circles"] > 0
    for circle in circles:
        members = circle["members"].split(";")
        contracts = circle["contracts"].split(";")
        assert len(members) == len(contracts) >= 2
        assert len(set(members)) == len(members)
        assert circle["intact"] == str(int(all(c in clean for c in contracts)))
        for position, contract in enumerate(contracts):
            if contract not in clean:
                continue
            row = clean[contract]
            guarantor, borrower = members[position], members[(position + 1) % len(members)]
            assert (row[2], row[4]) == (guarantor, borrower)
            assert row[7] == circle["amounts"].split(";")[position]
        if circle["intact"] == "1":
            statuses = {clean[c][10] for c in contracts}
            assert circle["in_force"] == str(int(statuses == {"正常"}))

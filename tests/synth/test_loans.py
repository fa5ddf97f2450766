"""The synthetic loan book: deterministic by seed, consistent with itself and the region,
and its outcomes driven by the borrower's risk and by the loan's behaviour."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from xinyidai.synth import generate
from xinyidai.synth.loans import BOOK, LOAN_HEADERS, OUTCOME_HEADERS, OUTCOMES


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_same_seed_gives_the_same_book_and_another_seed_another(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", enterprises=300, seed=11)
    again = generate(tmp_path / "b", enterprises=300, seed=11)
    other = generate(tmp_path / "c", enterprises=300, seed=12)
    for name in (BOOK, OUTCOMES):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()
    assert first["counts"]["loans"] == again["counts"]["loans"]
    assert other["counts"]["loans"] > 0


def test_the_book_is_consistent_with_itself_and_the_region(
    region: tuple[Path, dict[str, Any]],
) -> None:
    out, manifest = region
    loans = _rows(out / BOOK)
    outcomes = _rows(out / OUTCOMES)
    defaults = {
        row["credit_code"]: int(row["defaulted"]) for row in _rows(out / "truth" / "defaults.csv")
    }
    assert list(loans[0]) == LOAN_HEADERS
    assert list(outcomes[0]) == OUTCOME_HEADERS
    assert manifest["loan_book"] == BOOK
    assert manifest["truth"]["loan_outcomes"] == OUTCOMES
    assert manifest["counts"]["loans"] == len(loans) == len(outcomes)
    assert manifest["counts"]["loans_bad"] == sum(int(row["bad"]) for row in outcomes)
    assert [row["loan_id"] for row in loans] == [row["loan_id"] for row in outcomes]
    assert len({row["loan_id"] for row in loans}) == len(loans)
    # a share of the enterprises borrow, some twice
    borrowers: dict[str, int] = {}
    for row in loans:
        borrowers[row["credit_code"]] = borrowers.get(row["credit_code"], 0) + 1
    assert 0.15 < len(borrowers) / manifest["counts"]["enterprises"] < 0.45
    assert set(borrowers.values()) == {1, 2}
    for row in loans:
        assert row["credit_code"] in defaults
        due, on_time = int(row["instalments_due"]), int(row["instalments_on_time"])
        term, now, worst = (
            int(row["term_months"]),
            int(row["days_overdue_now"]),
            int(row["max_days_overdue"]),
        )
        assert 1 <= due < term
        assert 0 <= on_time <= due
        assert 0 <= now <= worst
        assert (worst > 0) == (on_time < due)
        assert 0 < float(row["outstanding"]) <= float(row["amount"])
        assert row["start_on"] < manifest["as_of"]
        assert int(row["other_live_loans"]) == borrowers[row["credit_code"]] - 1
    assert set(row["bad"] for row in outcomes) == {"0", "1"}


def test_outcomes_follow_the_borrower_and_the_loan(region: tuple[Path, dict[str, Any]]) -> None:
    out, _ = region
    loans = {row["loan_id"]: row for row in _rows(out / BOOK)}
    outcomes = _rows(out / OUTCOMES)
    defaults = {
        row["credit_code"]: int(row["defaulted"]) for row in _rows(out / "truth" / "defaults.csv")
    }

    def bad_rate(keep: Any) -> float:
        chosen = [int(row["bad"]) for row in outcomes if keep(loans[row["loan_id"]])]
        return sum(chosen) / len(chosen)

    overall = bad_rate(lambda loan: True)
    assert 0.04 < overall < 0.15
    assert bad_rate(lambda loan: int(loan["days_overdue_now"]) > 0) > 2 * overall
    assert bad_rate(lambda loan: defaults[loan["credit_code"]] == 1) > 2 * overall
    assert bad_rate(lambda loan: loan["instalments_due"] == loan["instalments_on_time"]) < overall

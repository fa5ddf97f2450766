"""The platform rating over a small synthetic region: full runs, history, reasons, and the
re-rating of an enterprise when a negative record about it arrives."""

from __future__ import annotations

import csv
import logging
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.ingest.tables import code as code_of
from tests.scoring.records import enforcement_feature, push

from xinyidai.core import clock, jobs
from xinyidai.core.errors import NotFound
from xinyidai.records.models import CreditRecord
from xinyidai.registry import service as registry_service
from xinyidai.scoring import features, platform_model, service
from xinyidai.scoring import jobs as rating_jobs
from xinyidai.scoring.models import CreditRating, RatingModel, RatingRun
from xinyidai.scoring.scorecard import metrics

AS_OF = date(2025, 12, 31)  # the day the synthetic feeds describe


@pytest.fixture
def db_url(region_url: str) -> str:
    """Every test here starts from the ingested region."""
    return region_url


def _ratings(session: Session, credit_code: str | None = None) -> list[CreditRating]:
    stmt = select(CreditRating).order_by(CreditRating.id)
    if credit_code:
        stmt = stmt.where(CreditRating.credit_code == credit_code)
    return list(session.scalars(stmt))


def _truth(folder: Path) -> dict[str, int]:
    with (folder / "truth" / "defaults.csv").open(encoding="utf-8") as handle:
        return {row["credit_code"]: int(row["defaulted"]) for row in csv.DictReader(handle)}


def test_a_full_run_rates_every_subject_with_model_and_as_of(session: Session) -> None:
    run = service.rate_all(session, on=AS_OF, actor="test")
    session.commit()
    subjects = registry_service.subjects_frame(session, statuses=("active", "pending_verification"))
    ratings = _ratings(session)
    assert run.rated == len(ratings) == subjects.height > 250
    assert {r.credit_code for r in ratings} == set(subjects["credit_code"].to_list())
    model = platform_model.current()
    assert {r.model_version for r in ratings} == {model.version} == {run.model_version}
    assert {(r.as_of, r.trigger, r.run_id) for r in ratings} == {(AS_OF, "run", run.id)}
    assert sum(run.grades.values()) == run.rated
    assert set(run.grades) == set(model.grades.names)
    assert session.get(RatingModel, model.version) is not None
    assert session.get(RatingRun, run.id) is not None


def test_the_rating_ranks_the_regions_defaults(session: Session, region_folder: Path) -> None:
    service.rate_all(session, on=AS_OF)
    truth = _truth(region_folder)
    ratings = [r for r in _ratings(session) if r.credit_code in truth]
    y = np.array([truth[r.credit_code] for r in ratings])
    p = np.array([r.probability for r in ratings])
    assert metrics.auc(y, p) > 0.65


def test_a_second_run_keeps_the_first_as_history(session: Session) -> None:
    first = service.rate_all(session, on=AS_OF)
    second = service.rate_all(session, on=date(2026, 1, 31))
    session.commit()
    some = _ratings(session)[0].credit_code
    history, total = service.history(session, credit_code=some)
    assert total == 2
    assert [r.run_id for r in history] == [second.id, first.id]
    assert service.current_rating(session, credit_code=some).run_id == second.id  # type: ignore[union-attr]


def test_points_reasons_and_score_agree(session: Session) -> None:
    service.rate_all(session, on=AS_OF)
    model = platform_model.current()
    ratings = _ratings(session)
    table = features.compute(session, on=AS_OF, credit_codes=[r.credit_code for r in ratings])
    by_code = {code: i for i, code in enumerate(table["credit_code"].to_list())}
    scored = model.apply({name: table[name].to_numpy() for name in model.feature_names})
    for rating in ratings[::7]:
        row = by_code[rating.credit_code]
        assert rating.score == scored.points[row].sum() == scored.score[row]
        assert rating.grade == scored.grade[row]
        for name, index, impact in rating.reasons:
            feature = model.feature(name)
            assert index == scored.bins[row, model.feature_names.index(name)]
            assert impact == pytest.approx(feature.all_bins[index].points - feature.best_points)
            assert impact < 0
        impacts = [impact for _, _, impact in rating.reasons]
        assert impacts == sorted(impacts)


def test_reasons_are_shown_in_the_callers_language(session: Session) -> None:
    service.rate_all(session, on=AS_OF)
    rating = next(r for r in _ratings(session) if r.reasons)
    zh = service.rating_out(session, rating, locale="zh_CN")
    en = service.rating_out(session, rating, locale="en")
    assert [r.code for r in zh.reasons] == [r.code for r in en.reasons]
    assert all("：" in r.text for r in zh.reasons)
    assert all((": " in r.text and r.text.isascii()) or ": " in r.text for r in en.reasons)
    assert zh.reasons[0].text != en.reasons[0].text
    assert zh.grade == rating.grade
    assert zh.probability == rating.probability


def _clean_active_enterprise(session: Session) -> str:
    table = features.compute(session, on=clock.today())
    clean = table.filter(
        (table["penalties"] == 0)
        & (table["enforcement_cases"] == 0)
        & table["age_years"].is_not_null()
    )
    return str(clean["credit_code"][0])


def test_a_negative_record_re_rates_its_enterprise_on_arrival(session: Session) -> None:
    service.rate_all(session)
    code = _clean_active_enterprise(session)
    before = service.current_rating(session, credit_code=code)
    assert before is not None
    push(
        session,
        "court_enforcement",
        [
            {
                "credit_code": code,
                "case_number": "(2026)宁0104执1号",
                "amount": "500000",
                "filed_on": clock.today().isoformat(),
                "status": "执行中",
            },
        ],
    )
    push(
        session,
        "dishonest_debtor",
        [
            {
                "credit_code": code,
                "case_number": "(2026)宁0104执1号",
                "published_on": clock.today().isoformat(),
                "amount": "500000",
            },
        ],
    )
    session.commit()
    ratings = _ratings(session, code)
    assert [r.trigger for r in ratings] == ["run", "arrival", "arrival"]
    after = ratings[-1]
    assert after.as_of == clock.today()
    assert after.score < before.score
    reasons = {name for name, _, _ in after.reasons}
    assert {enforcement_feature().name, "dishonest_listings"} <= reasons


def test_only_negative_records_re_rate(session: Session) -> None:
    code = _clean_active_enterprise(session)
    push(
        session,
        "honour",
        [
            {"credit_code": code, "honour_name": "守合同重信用企业", "awarded_on": "2025-10-01"},
        ],
    )
    push(
        session,
        "utility_payment",
        [
            {
                "credit_code": code,
                "account_number": "E-new",
                "utility": "电力",
                "period_start": "2026-01-01",
                "billed_amount": "900",
                "arrears_months": 0,
            },
        ],
    )
    assert _ratings(session, code) == []
    push(
        session,
        "utility_payment",
        [
            {
                "credit_code": code,
                "account_number": "E-late",
                "utility": "电力",
                "period_start": "2026-01-01",
                "billed_amount": "900",
                "arrears_months": 4,
                "arrears_amount": "300",
            },
        ],
    )
    push(
        session,
        "tax_rating",
        [
            {"credit_code": code, "year": 2025, "grade": "D", "rated_on": "2026-04-10"},
        ],
    )
    assert [r.trigger for r in _ratings(session, code)] == ["arrival", "arrival"]


def test_a_bulk_load_can_pause_re_rating(session: Session) -> None:
    code = _clean_active_enterprise(session)
    with service.arrival_paused():
        push(
            session,
            "admin_penalty",
            [
                {
                    "credit_code": code,
                    "decision_number": "X1",
                    "fine_amount": "100",
                    "decided_on": "2025-11-01",
                },
            ],
        )
    assert _ratings(session, code) == []


def test_a_failed_re_rating_never_loses_the_record(
    session: Session, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    code = _clean_active_enterprise(session)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("indicator store unavailable")

    monkeypatch.setattr(features, "compute", broken)
    with caplog.at_level(logging.ERROR, logger="xinyidai.scoring.service"):
        batch = push(
            session,
            "admin_penalty",
            [
                {
                    "credit_code": code,
                    "decision_number": "X2",
                    "fine_amount": "100",
                    "decided_on": "2025-11-01",
                },
            ],
        )
    session.commit()
    assert batch.accepted == 1
    stored = session.scalar(
        select(func.count())
        .select_from(CreditRecord)
        .where(CreditRecord.subject_code == code, CreditRecord.category == "admin_penalty")
    )
    assert stored == 1
    assert _ratings(session, code) == []
    assert "re-rating on arrival" in caplog.text


def test_rating_one_enterprise_on_request(session: Session) -> None:
    code = _clean_active_enterprise(session)
    first = service.current_or_rate(session, credit_code=code)
    again = service.current_or_rate(session, credit_code=code)
    assert first.id == again.id
    assert first.trigger == "request"
    with pytest.raises(NotFound) as caught:
        service.current_or_rate(session, credit_code=code_of(999_999))
    assert caught.value.field == "credit_code"
    assert _ratings(session, code_of(999_999)) == []


def test_a_rating_stays_explainable_after_the_model_changes(session: Session) -> None:
    code = _clean_active_enterprise(session)
    current = platform_model.current()
    older = replace(current, name="xyd-rating-old")
    service.register_model(session, model=older, source="test")
    feature = older.features[0]
    worst = min(range(len(feature.bins)), key=lambda i: feature.bins[i].points)
    session.add(
        CreditRating(
            credit_code=code,
            score=500.0,
            grade="C",
            probability=0.4,
            reasons=[[feature.name, worst, feature.bins[worst].points - feature.best_points]],
            model_version=older.version,
            as_of=AS_OF,
            trigger="run",
            rated_at=clock.now(),
        )
    )
    session.flush()
    rating = service.current_rating(session, credit_code=code)
    assert rating is not None
    assert rating.model_version == older.version != current.version
    shown = service.rating_out(session, rating, locale="en")
    assert shown.reasons[0].code == feature.reason_text.code
    assert shown.reasons[0].text.endswith(feature.bins[worst].label)


def test_a_full_run_as_a_job_reports_progress(session: Session) -> None:
    job = jobs.create(session, kind=service.JOB_KIND, params={"as_of": None}, actor="test")
    session.commit()
    seen: list[int] = []
    result = rating_jobs.run_rating(
        job.id, "2025-12-31", listener=lambda done, _: seen.append(done)
    )
    session.expire_all()
    done = jobs.get_or_raise(session, job_id=job.id)
    assert done.state == jobs.JobState.SUCCEEDED
    assert done.result == result
    assert result["as_of"] == "2025-12-31"
    assert result["rated"] > 250
    assert seen == sorted(seen)
    assert done.done == done.total == seen[-1]
    run = session.get(RatingRun, result["run_id"])
    assert run is not None
    assert run.job_id == job.id
    assert run.actor == "test"

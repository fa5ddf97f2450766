"""Evaluation: every institution and region of a quarter scored by the year's method from
the figures; scores recomputed by hand from the figures and the bands; the method beside
the ranking with a drill-down to each figure; bad questions refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import XydEnv
from tests.web.conftest import portal  # noqa: F401 - the signed-in client fixture
from xinyidai.cli import app
from xinyidai.core import clock
from xinyidai.core.errors import ValidationFailed
from xinyidai.stats.models import Grain
from xinyidai.stats.service import evaluation, figures, refresh

Auth = Callable[[str], dict[str, str]]
Portal = Callable[[str], TestClient]


def _this_quarter() -> tuple[int, int]:
    today = clock.today()
    return today.year, (today.month - 1) // 3 + 1


def test_scores_are_the_bands_of_the_figures(session: Session, lending: list[str]) -> None:
    refresh.rebuild(session)
    year, quarter = _this_quarter()
    ranking = evaluation.rank(session, year=year, quarter=quarter, subject="institution")
    assert ranking.scores
    method = evaluation.method_or_raise(year).subjects["institution"]
    first, last = evaluation.quarter_span(year, quarter)
    table = figures.table(
        session,
        figures=[i.figure for i in method.indicators],
        grain=Grain.QUARTER,
        start=first,
        end=last,
        dimension=method.dimension,
    )
    values = {(v.key, v.figure): v.value for v in table}
    for score in ranking.scores:
        expected = Decimal(0)
        for indicator in method.indicators:
            value = values[(score.key, indicator.figure)]
            points = Decimal(0)
            for threshold, band in indicator.bands:  # the best band reached
                reached = value is not None and (
                    value >= threshold if indicator.direction == "higher" else value <= threshold
                )
                if reached:
                    points = max(points, band)
            expected += indicator.weight * points / 100
        assert score.score == expected.quantize(Decimal("0.01"))
    assert [s.score for s in ranking.scores] == sorted(
        (s.score for s in ranking.scores), reverse=True
    )
    assert [s.rank for s in ranking.scores] == list(range(1, len(ranking.scores) + 1))


def test_a_method_whose_weights_do_not_sum_to_100_is_refused(
    tmp_path: Path, xyd_env: XydEnv
) -> None:
    bad = {
        "methods": [
            {
                "year": 2026,
                "title": "t",
                "subjects": {
                    "institution": {
                        "dimension": "institution",
                        "indicators": [
                            {
                                "figure": "loans_granted",
                                "weight": 60,
                                "direction": "higher",
                                "bands": [[1, 100]],
                            }
                        ],
                    }
                },
            }
        ]
    }
    path = tmp_path / "evaluation.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    xyd_env(XYD_STATS_EVALUATION_FILE=str(path))
    with pytest.raises(ValidationFailed) as caught:
        evaluation.methods()
    assert caught.value.field == "evaluation_file"


def test_the_api_ranks_and_refuses_bad_questions(
    client: TestClient, auth: Auth, lending: list[str]
) -> None:
    client.post("/api/v1/stats/refresh", headers=auth("operator"))
    year, quarter = _this_quarter()
    method = client.get(f"/api/v1/stats/evaluation/method?year={year}", headers=auth("auditor"))
    assert method.status_code == 200
    for indicators in method.json()["subjects"].values():
        assert sum(Decimal(i["weight"]) for i in indicators) == 100
    ranked = client.get(
        "/api/v1/stats/evaluation",
        params={"year": year, "quarter": quarter, "subject": "region"},
        headers=auth("auditor"),
    )
    assert ranked.status_code == 200, ranked.text
    assert ranked.json()["dimension"] == "city"
    assert ranked.json()["scores"]
    for params, status, field in (
        ({"year": 2031, "quarter": 1}, 404, "year"),
        ({"year": year, "quarter": 1, "subject": "planet"}, 422, "subject"),
    ):
        answer = client.get("/api/v1/stats/evaluation", params=params, headers=auth("operator"))
        assert answer.status_code == status
        assert answer.json()["error"]["field"] == field
    assert (
        client.get(
            "/api/v1/stats/evaluation", params={"year": year, "quarter": 1}, headers=auth("bank")
        ).status_code
        == 403
    )


def test_the_page_shows_the_method_beside_the_ranking(
    portal: Portal,  # noqa: F811
    session: Session,
    lending: list[str],
) -> None:
    refresh.rebuild(session)
    session.commit()
    year, quarter = _this_quarter()
    page = portal("operator").get(f"/stats/evaluation?year={year}&quarter={quarter}")
    assert page.status_code == 200
    assert "考核评价" in page.text
    assert 'data-testid="method"' in page.text
    assert 'data-indicator="credit_loan_share"' in page.text
    assert 'data-rank="1"' in page.text
    assert 'data-drill="loans_granted"' in page.text
    missing = portal("operator").get("/stats/evaluation?year=2031&quarter=1")
    assert missing.status_code == 404
    assert 'data-testid="evaluation-error"' in missing.text


def test_xyd_stats_evaluate(session: Session, lending: list[str]) -> None:
    refresh.rebuild(session)
    session.commit()
    year, quarter = _this_quarter()
    result = CliRunner().invoke(
        app, ["stats", "evaluate", "--year", str(year), "--quarter", str(quarter), "--json"]
    )
    assert result.exit_code == 0, result.output
    ranked = json.loads(result.stdout)
    assert ranked[0]["rank"] == 1

"""The rating in the portal: the enterprise's card, the operator's ratings page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from tests.scoring.records import enforcement_feature, push
from tests.web.conftest import csrf_of
from xinyidai.core import clock
from xinyidai.scoring.models import RatingRun
from xinyidai.scoring.service import arrival_paused

Portal = Callable[[str], TestClient]


def _penalize(session: Session) -> None:
    with arrival_paused():
        push(
            session,
            "court_enforcement",
            [
                {
                    "credit_code": ENTERPRISE_CODE,
                    "case_number": "E-9",
                    "amount": "650000",
                    "filed_on": (clock.today() - timedelta(days=30)).isoformat(),
                    "status": "执行中",
                },
            ],
        )
    session.commit()


def test_the_enterprise_sees_its_rating_on_its_dashboard(portal: Portal, session: Session) -> None:
    _penalize(session)
    page = portal("enterprise").get("/dashboard")
    assert page.status_code == 200
    assert 'data-testid="rating-card"' in page.text
    assert re.search(r'data-testid="rating-grade">(AAA|AA|A|BBB|BB|B|CCC|CC|C)<', page.text)
    reason = enforcement_feature().reason_text
    assert f'data-code="{reason.code}"' in page.text
    assert reason.zh in page.text  # Chinese by default
    english = portal("enterprise").get("/dashboard?lang=en")
    assert reason.en in english.text


def test_the_operator_looks_up_a_rating(portal: Portal, session: Session) -> None:
    _penalize(session)
    client = portal("operator")
    page = client.get(f"/ratings?code={ENTERPRISE_CODE.lower()}")
    assert page.status_code == 200
    assert 'data-testid="rating-card"' in page.text
    assert "南宁示范科技有限公司" in page.text
    assert 'data-testid="model-table"' in page.text


def test_an_unknown_or_malformed_code_is_said_next_to_the_field(portal: Portal) -> None:
    client = portal("operator")
    unknown = client.get(f"/ratings?code={OTHER_CODE}")
    assert unknown.status_code == 404
    assert 'data-error-for="code"' in unknown.text
    assert 'data-testid="rating-card"' not in unknown.text
    malformed = client.get("/ratings?code=12345")
    assert malformed.status_code == 422
    assert 'data-error-for="code"' in malformed.text


def test_the_operator_starts_a_full_run(portal: Portal, session: Session) -> None:
    client = portal("operator")
    page = client.get("/ratings")
    assert "No full run yet." in client.get("/ratings?lang=en").text
    form = re.search(r'action="/ratings/runs"[^>]*>\s*<input[^>]*value="([^"]+)"', page.text)
    assert form, "the run form carries no CSRF token"
    assert form.group(1) == csrf_of(page.text)
    response = client.post(
        "/ratings/runs", data={"csrf_token": form.group(1)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ratings?queued=job_")
    after = client.get(response.headers["location"])
    assert 'data-testid="run-queued"' in after.text
    assert 'data-testid="latest-run"' in after.text
    assert 'data-testid="grade-table"' in after.text
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(RatingRun)) == 1


def test_a_run_needs_the_forms_token_and_an_operator(portal: Portal, session: Session) -> None:
    client = portal("operator")
    forged = client.post("/ratings/runs", data={}, follow_redirects=False)
    assert forged.status_code == 403
    provider = portal("provider-tax")
    assert provider.get("/ratings").status_code == 403
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(RatingRun)) == 0


def test_the_operators_menu_leads_to_the_ratings(portal: Portal) -> None:
    assert 'href="/ratings"' in portal("operator").get("/dashboard").text
    assert 'href="/ratings"' not in portal("enterprise").get("/dashboard").text

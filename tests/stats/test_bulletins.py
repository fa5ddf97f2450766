"""Monthly bulletins: generated for a month from the figures (by hand or on the 1st), the
month against the month before, archived once per month with a PDF; bad months refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.web.conftest import portal  # noqa: F401 - the signed-in client fixture
from xinyidai.cli import app
from xinyidai.core import clock
from xinyidai.stats.models import Bulletin, Grain
from xinyidai.stats.service import bulletins, figures, refresh

Auth = Callable[[str], dict[str, str]]
Portal = Callable[[str], TestClient]


def _this_month() -> str:
    today = clock.today()
    return f"{today.year}-{today.month:02d}"


def test_a_bulletin_holds_the_months_figures(session: Session, lending: list[str]) -> None:
    refresh.rebuild(session)
    month = _this_month()
    done = bulletins.generate(session, month=month, actor="test")
    assert done.pdf.startswith(b"%PDF")
    first = clock.today().replace(day=1)
    expected = figures.totals(
        session, ["loans_granted", "balance"], first, figures.period_of(Grain.MONTH, first).last
    )
    rows = {row["figure"]: row for row in done.content["figures"]}
    assert Decimal(rows["loans_granted"]["month"]) == expected["loans_granted"]
    assert Decimal(rows["balance"]["month"]) == expected["balance"]
    before = first - timedelta(days=1)
    prior = figures.totals(session, ["loans_granted"], before.replace(day=1), before)
    assert Decimal(rows["loans_granted"]["previous"]) == prior["loans_granted"]
    assert len(done.content["trend"]["loans_amount"]) == 12  # the year to this month
    # generated again: still one per month
    bulletins.generate(session, month=month, actor="test")
    assert session.scalar(select(func.count()).select_from(Bulletin)) == 1


def test_the_api_generates_lists_and_serves_the_pdf(
    client: TestClient, auth: Auth, session: Session, lending: list[str]
) -> None:
    client.post("/api/v1/stats/refresh", headers=auth("operator"))
    month = _this_month()
    refused = client.post("/api/v1/stats/bulletins", json={"month": month}, headers=auth("auditor"))
    assert refused.status_code == 403
    for bad in ("2026-13", "2999-01", "26-1"):
        answer = client.post(
            "/api/v1/stats/bulletins", json={"month": bad}, headers=auth("operator")
        )
        assert answer.status_code == 422, bad
    assert session.scalar(select(func.count()).select_from(Bulletin)) == 0
    made = client.post("/api/v1/stats/bulletins", json={"month": month}, headers=auth("operator"))
    assert made.status_code == 201, made.text
    listed = client.get("/api/v1/stats/bulletins", headers=auth("auditor")).json()
    assert [b["month"] for b in listed["items"]] == [month]
    pdf = client.get(f"/api/v1/stats/bulletins/{month}/pdf", headers=auth("auditor"))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert (
        client.get("/api/v1/stats/bulletins/2020-01", headers=auth("operator")).status_code == 404
    )


def test_the_portal_lists_and_shows_bulletins(
    portal: Portal,  # noqa: F811
    session: Session,
    lending: list[str],
) -> None:
    refresh.rebuild(session)
    bulletins.generate(session, month=_this_month(), actor="test")
    session.commit()
    client = portal("operator")
    listed = client.get("/stats/bulletins")
    assert listed.status_code == 200
    assert f'data-month="{_this_month()}"' in listed.text
    page = client.get(f"/stats/bulletins/{_this_month()}")
    assert page.status_code == 200
    assert "月度通报" in page.text
    assert 'data-figure="loans_amount"' in page.text
    assert client.get(f"/stats/bulletins/{_this_month()}/pdf").content.startswith(b"%PDF")


def test_xyd_stats_bulletin_writes_the_pdf(
    session: Session, lending: list[str], tmp_path: Path
) -> None:
    refresh.rebuild(session)
    session.commit()
    out = tmp_path / "bulletin.pdf"
    result = CliRunner().invoke(
        app, ["stats", "bulletin", "--month", _this_month(), "--pdf", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")

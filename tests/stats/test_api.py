"""``/api/v1/stats``: the operator and auditors read figures (auditors with small cells
suppressed), everyone else is refused; bad questions are refused naming the field; exports
carry the same table."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import XydEnv
from xinyidai.stats.models import FigureRow, Refresh

Auth = Callable[[str], dict[str, str]]


def _refresh(client: TestClient, auth: Auth) -> None:
    done = client.post("/api/v1/stats/refresh", headers=auth("operator"))
    assert done.status_code == 200, done.text


def test_only_the_operator_and_auditors_read_figures(client: TestClient, auth: Auth) -> None:
    for username in ("enterprise", "bank", "provider-tax"):
        answer = client.get("/api/v1/stats/figures", headers=auth(username))
        assert answer.status_code == 403, username
    for username in ("operator", "auditor"):
        answer = client.get("/api/v1/stats/figures", headers=auth(username))
        assert answer.status_code == 200
        assert {"loans_granted", "approval_rate", "balance"} <= {f["name"] for f in answer.json()}
    assert client.get("/api/v1/stats/figures").status_code == 401


def test_only_the_operator_refreshes(client: TestClient, auth: Auth, session: Session) -> None:
    refused = client.post("/api/v1/stats/refresh", headers=auth("auditor"))
    assert refused.status_code == 403
    assert session.scalar(select(func.count()).select_from(Refresh)) == 0


def test_the_auditor_sees_small_cells_suppressed(
    client: TestClient, auth: Auth, lending: list[str], xyd_env: XydEnv
) -> None:
    _refresh(client, auth)
    query = {
        "figure": ["loans_granted", "loans_amount"],
        "grain": "year",
        "dimension": "institution",
        "start": "2020-01-01",
    }
    operator = client.get("/api/v1/stats/table", params=query, headers=auth("operator")).json()
    counts = [int(i["value"]) for i in operator["items"] if i["figure"] == "loans_granted"]
    threshold = min(n for n in counts if n) + 1  # the smallest institution-year is a small cell
    xyd_env(XYD_STATS_MIN_CELL=str(threshold))
    auditor = client.get("/api/v1/stats/table", params=query, headers=auth("auditor")).json()
    assert operator["suppressed_below"] is None
    assert auditor["suppressed_below"] == threshold
    assert not any(item["suppressed"] for item in operator["items"])
    small = [
        (i["period"], i["key"], i["figure"])
        for i in operator["items"]
        if i["figure"] == "loans_granted" and 0 < int(i["value"]) < threshold
    ]
    assert small
    hidden = {(i["period"], i["key"], i["figure"]) for i in auditor["items"] if i["suppressed"]}
    assert set(small) <= hidden
    # an amount rests on its count: hidden with it
    assert {(p, k, "loans_amount") for p, k, _ in small} <= hidden
    assert all(i["value"] is None for i in auditor["items"] if i["suppressed"])
    # the region as a whole is not a small cell
    whole = client.get(
        "/api/v1/stats/table",
        params={**query, "dimension": "all"},
        headers=auth("auditor"),
    ).json()
    assert not any(i["suppressed"] for i in whole["items"])


def test_bad_questions_are_refused_naming_the_field(
    client: TestClient, auth: Auth, session: Session
) -> None:
    cases = [
        ({"figure": "nonsense"}, "figure"),
        ({"figure": "rate_amount"}, "figure"),  # an input of other figures, not listed
        ({"figure": "records_collected", "dimension": "county"}, "dimension"),
        ({"figure": "needs_posted", "dimension": "planet"}, "dimension"),
        ({"figure": "needs_posted", "start": "2026-05-01", "end": "2026-04-01"}, "end"),
        ({"figure": "needs_posted", "grain": "day", "start": "2020-01-01"}, "grain"),
    ]
    for params, field in cases:
        answer = client.get("/api/v1/stats/table", params=params, headers=auth("operator"))
        assert answer.status_code == 422, params
        assert answer.json()["error"]["field"] == field, answer.json()
    assert session.scalar(select(func.count()).select_from(FigureRow)) == 0


def test_exports_carry_the_table(client: TestClient, auth: Auth, lending: list[str]) -> None:
    _refresh(client, auth)
    query = {"figure": ["loans_granted"], "grain": "year", "dimension": "institution"}
    table = client.get("/api/v1/stats/table", params=query, headers=auth("operator")).json()
    answer = client.get(
        "/api/v1/stats/export", params={**query, "format": "csv"}, headers=auth("operator")
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert rows[0][:5] == ["period", "dimension", "key", "name", "figure"]
    assert len(rows) == len(table["items"]) + 1
    xlsx = client.get(
        "/api/v1/stats/export", params={**query, "format": "xlsx"}, headers=auth("auditor")
    )
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"


def test_targets_show_progress(client: TestClient, auth: Auth, lending: list[str]) -> None:
    _refresh(client, auth)
    answer = client.get("/api/v1/stats/targets", headers=auth("auditor"))
    assert answer.status_code == 200
    targets = {t["name"]: t for t in answer.json()}
    assert set(targets) == {"smes_served", "new_credit_loans"}
    served = targets["smes_served"]
    assert float(served["reached"]) > 0
    assert float(served["share"]) == round(
        float(served["reached"]) / float(served["amount"]) * 100, 2
    )

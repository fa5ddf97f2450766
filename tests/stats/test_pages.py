"""The statistics dashboard: headline figures, targets, the trend and the breakdown with
their chart data, in Chinese; the auditor's breakdown suppressed; others refused; a bad
filter refused with nothing shown."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import XydEnv
from tests.web.conftest import portal  # noqa: F401 - the signed-in client fixture
from xinyidai.stats.service import refresh

Portal = Callable[[str], TestClient]


def _chart(html: str) -> dict[str, object]:
    found = re.search(r'id="stats-chart-data">(.*?)</script>', html, re.S)
    assert found
    return dict(json.loads(found.group(1)))


def test_the_operator_sees_the_dashboard(
    portal: Portal,  # noqa: F811
    session: Session,
    lending: list[str],
) -> None:
    refresh.rebuild(session)
    session.commit()
    page = portal("operator").get("/stats?figure=loans_granted&grain=month&dimension=institution")
    assert page.status_code == 200, page.text
    assert "统计分析" in page.text
    assert 'href="/stats"' in page.text
    assert 'data-testid="headline"' in page.text
    assert 'data-target="smes_served"' in page.text
    assert "/static/vendor/echarts.min.js" in page.text
    chart = _chart(page.text)
    assert chart["name"] == "放款笔数"
    assert len(chart["periods"]) == len(chart["trend"])  # type: ignore[arg-type]
    assert sum(chart["breakdown"]) > 0  # type: ignore[arg-type]
    assert "广西农村信用社联合社" in chart["cells"]  # type: ignore[operator]
    assert 'data-suppressed="true"' not in page.text
    assert "export?figure=loans_granted" in page.text


def test_the_auditor_sees_small_cells_suppressed(
    portal: Portal,  # noqa: F811
    session: Session,
    lending: list[str],
    xyd_env: XydEnv,
) -> None:
    refresh.rebuild(session)
    session.commit()
    xyd_env(XYD_STATS_MIN_CELL="1000")
    page = portal("auditor").get("/stats?figure=loans_granted&grain=year&dimension=institution")
    assert page.status_code == 200
    assert 'data-testid="suppression-note"' in page.text
    assert 'data-suppressed="true"' in page.text
    assert all(value is None for value in _chart(page.text)["breakdown"])  # type: ignore[attr-defined]


def test_other_organizations_cannot_open_it(portal: Portal) -> None:  # noqa: F811
    assert portal("bank").get("/stats").status_code == 403


def test_a_bad_filter_is_refused(portal: Portal) -> None:  # noqa: F811
    for query in ("grain=week", "dimension=planet", "start=yesterday", "figure=nonsense"):
        page = portal("operator").get(f"/stats?{query}")
        assert page.status_code == 422, query
        assert 'data-testid="stats-error"' in page.text
        assert 'id="stats-chart-data"' not in page.text


def test_cases_are_written_and_published_in_the_portal(
    client: TestClient,
    session: Session,
    demo: object,
) -> None:
    from tests.stats.test_cases import _second_operator
    from tests.web.conftest import csrf_of, sign_in

    _second_operator(session)
    sign_in(client, "operator")
    page = client.get("/stats/cases")
    assert page.status_code == 200
    token = csrf_of(page.text)
    empty = client.post("/stats/cases", data={"csrf_token": token, "title": "案例"})
    assert empty.status_code == 422
    assert 'data-error-for="summary"' in empty.text
    made = client.post(
        "/stats/cases",
        data={
            "csrf_token": token,
            "title": "信用贷款助企业渡过难关",
            "summary": "三天放款。",
            "body": "企业凭纳税记录获得贷款。",
            "region_code": "450103",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    listed = client.get("/stats/cases").text
    case_id = re.search(r'data-case="([^"]+)" data-state="draft"', listed)
    assert case_id
    base = f"/stats/cases/{case_id.group(1)}"
    assert client.post(f"{base}/submit", data={"csrf_token": token}).status_code in (200, 303)
    own = client.post(f"{base}/publish", data={"csrf_token": token})
    assert own.status_code == 403
    assert 'data-testid="case-error"' in own.text
    reviewer = TestClient(client.app)
    sign_in(reviewer, "reviewer")
    token = csrf_of(reviewer.get("/stats/cases").text)
    done = reviewer.post(f"{base}/publish", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert "信用贷款助企业渡过难关" in reviewer.get("/public").text

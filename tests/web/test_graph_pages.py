"""The association pages through HTTP: circles and chains for the operator, one
enterprise's associations for the operator and for the enterprise itself."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.graph.records import code, guarantee, register
from tests.web.conftest import csrf_of
from tests.worlds import demo_enterprise_in_a_circle
from xinyidai.core.jobs import Job
from xinyidai.graph.models import GraphAnalysis

Portal = Callable[[str], TestClient]


def _demo_enterprise_in_a_circle(session: Session) -> str:
    """The demo enterprise and B guarantee each other; B is a dishonest debtor."""
    b = demo_enterprise_in_a_circle(
        session, partner_representative="陆明", partner_name="南宁关联贸易有限公司"
    )
    session.commit()
    return b


def _analyse_form_token(html: str) -> str:
    """The CSRF token inside the form that starts an analysis (not the sign-out form's)."""
    form = html[html.index('action="/graph/circles/analyse"') :]
    return csrf_of(form)


def _chart(html: str) -> dict[str, object]:
    match = re.search(
        r'<script type="application/json" id="association-graph-data">(.*?)</script>', html, re.S
    )
    assert match, "no graph data on the page"
    return dict(json.loads(match.group(1)))


def test_operator_runs_an_analysis_and_sees_the_circle(portal: Portal, session: Session) -> None:
    b = _demo_enterprise_in_a_circle(session)
    client = portal("operator")
    before = client.get("/graph/circles")
    assert before.status_code == 200
    assert 'data-testid="no-analysis"' in before.text
    assert 'data-nav="/graph/circles" aria-current="page">担保圈<' in before.text
    queued = client.post(
        "/graph/circles/analyse",
        data={"csrf_token": _analyse_form_token(before.text)},
        follow_redirects=False,
    )
    assert queued.status_code == 303
    page = client.get(queued.headers["location"])
    assert 'data-testid="flash"' in page.text
    assert 'data-count="circles">1<' in page.text
    assert 'data-kind="circle" data-size="2"' in page.text
    assert f'href="/graph/enterprises/{b}"' in page.text
    assert "南宁示范科技有限公司" in page.text
    assert "¥800,000.00" in page.text
    chains = client.get("/graph/circles?kind=chain")
    assert 'data-kind="circle"' not in chains.text


def test_an_analysis_without_the_csrf_token_is_refused(portal: Portal, session: Session) -> None:
    client = portal("operator")
    refused = client.post("/graph/circles/analyse", data={}, follow_redirects=False)
    assert refused.status_code == 403
    assert session.scalar(select(func.count()).select_from(Job)) == 0
    assert session.scalar(select(func.count()).select_from(GraphAnalysis)) == 0


def test_a_bad_member_code_is_shown_next_to_its_field(portal: Portal) -> None:
    page = portal("operator").get("/graph/circles?member=12345")
    assert page.status_code == 422
    assert 'data-error-for="member">信用代码应为 18 位，实际为 5 位<' in page.text


def test_operator_sees_an_enterprises_association_graph(portal: Portal, session: Session) -> None:
    b = _demo_enterprise_in_a_circle(session)
    page = portal("operator").get(f"/graph/enterprises/{ENTERPRISE_CODE}?depth=2")
    assert page.status_code == 200
    chart = _chart(page.text)
    assert chart["center"] == ENTERPRISE_CODE
    nodes = {n["id"]: n for n in chart["nodes"]}  # type: ignore[attr-defined]
    assert nodes[b]["bad"] is True
    kinds = {(e["source"], e["target"], e["kind"]) for e in chart["edges"]}  # type: ignore[attr-defined]
    assert (ENTERPRISE_CODE, b, "guarantee") in kinds
    assert (b, ENTERPRISE_CODE, "guarantee") in kinds
    assert "/static/graph.js" in page.text
    assert f'data-code="{b}" class="bad"' in page.text
    assert "失信被执行人" in page.text
    assert "陆明" in page.text  # the operator sees the name matched on
    assert 'data-testid="circles"' in page.text
    assert f'data-members="{",".join(sorted([ENTERPRISE_CODE, b]))}"' in page.text


def test_the_enterprise_sees_its_own_graph_with_people_as_graded(
    portal: Portal, session: Session
) -> None:
    b = _demo_enterprise_in_a_circle(session)
    client = portal("enterprise")
    home = client.get("/dashboard").text
    assert f'data-nav="/graph/enterprises/{ENTERPRISE_CODE}"' in home
    own = client.get(f"/graph/enterprises/{ENTERPRISE_CODE}")
    assert own.status_code == 200
    # a legal representative's name is published with the registration: raw, as everywhere
    assert "陆明" in own.text
    assert "陆*" not in own.text
    # Refused (and logged) by the access decision: its guarantees are not ours to see.
    assert client.get(f"/graph/enterprises/{b}").status_code == 403
    assert client.get("/graph/circles").status_code == 403
    found = client.get("/graph/enterprises", follow_redirects=False)
    assert found.headers["location"] == f"/graph/enterprises/{ENTERPRISE_CODE}"


def test_the_operator_looks_an_enterprise_up_by_code(portal: Portal, session: Session) -> None:
    _demo_enterprise_in_a_circle(session)
    client = portal("operator")
    found = client.get(f"/graph/enterprises?code={ENTERPRISE_CODE.lower()}", follow_redirects=False)
    assert found.status_code == 303
    assert found.headers["location"] == f"/graph/enterprises/{ENTERPRISE_CODE}"
    wrong = client.get(f"/graph/enterprises?code={code(77)}")
    assert wrong.status_code == 422
    assert f'data-error-for="code">没有信用代码为 {code(77)} 的主体<' in wrong.text


def test_a_bank_has_no_association_pages(portal: Portal) -> None:
    client = portal("bank")
    assert client.get(f"/graph/enterprises/{ENTERPRISE_CODE}").status_code == 403
    assert client.get("/graph/circles").status_code == 403


def test_an_unknown_enterprise_or_depth_is_not_found(portal: Portal) -> None:
    client = portal("operator")
    assert client.get(f"/graph/enterprises/{code(78)}").status_code == 404
    assert client.get(f"/graph/enterprises/{ENTERPRISE_CODE}?depth=9").status_code in (404, 422)


def test_a_released_guarantee_is_shown_as_released(portal: Portal, session: Session) -> None:
    b = _demo_enterprise_in_a_circle(session)
    c = register(session, 3, region="450100", representative="周洁")
    guarantee(session, c, b, amount="300000.00", status="已解除")
    session.commit()
    page = portal("operator").get(f"/graph/enterprises/{b}?depth=1")
    assert page.status_code == 200
    assert f"已解除 · DB-{c[-6:]}-{b[-6:]}" in page.text

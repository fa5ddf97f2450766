"""Restructuring notes (破产重整) through the real app: recorded by the operator, shown
beside the enterprise's records in its report; once the plan is executed the negatives from
before the approval leave the rating (the default policy) but stay in view, marked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import World
from tests.rights.conftest import record_of
from xinyidai.core import clock
from xinyidai.records import service as records_service

Auth = Callable[[str], dict[str, str]]


def _note(client: TestClient, auth: Auth, kind: str, days_ago: int, expect: int = 201) -> dict:
    answer = client.post(
        "/api/v1/rights/restructurings",
        json={
            "credit_code": ENTERPRISE_CODE,
            "kind": kind,
            "decided_on": (clock.today() - timedelta(days=days_ago)).isoformat(),
            "source": "南宁市中级人民法院",
            "text": "(2026)桂01破1号",
        },
        headers=auth("operator"),
    )
    assert answer.status_code == expect, answer.text
    return dict(answer.json())


def _penalty_frame_rows(session: Session) -> int:
    session.expire_all()
    frames = records_service.category_frames(
        session, fields={"admin_penalty": ["fine_amount"]}, subject_codes=[ENTERPRISE_CODE]
    )
    return int(frames["admin_penalty"].height)


def test_restructuring_is_shown_beside_the_records_and_applies_the_policy(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    penalty = record_of(session, "admin_penalty")  # decided 100 days ago
    # the plan cannot be executed before the reorganization is approved
    early = _note(client, auth, "plan_executed", 10, expect=409)
    assert early["error"]["field"] == "kind"
    assert (
        client.post(
            "/api/v1/rights/restructurings",
            json={
                "credit_code": ENTERPRISE_CODE,
                "kind": "reorganization_approved",
                "decided_on": clock.today().isoformat(),
                "source": "法院",
            },
            headers=auth("enterprise"),
        ).status_code
        == 403
    )
    _note(client, auth, "reorganization_approved", 50)
    assert _penalty_frame_rows(session) == 1  # approved only: the rating is unchanged
    _note(client, auth, "plan_executed", 10)
    assert _penalty_frame_rows(session) == 0  # before the approval: out of the rating

    profile = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/profile", headers=auth("enterprise")
    ).json()
    notes = profile["report"]["notes"]
    assert [n["kind"] for n in notes] == ["reorganization_approved", "plan_executed"]
    sections = {s["category"]: s for s in profile["report"]["sections"]}
    (shown,) = sections["admin_penalty"]["records"]
    assert shown["id"] == penalty.id  # still shown
    assert shown["marks"] == ["before_restructuring"]
    listed = client.get(
        f"/api/v1/rights/restructurings/{ENTERPRISE_CODE}", headers=auth("bank")
    ).json()
    assert len(listed) == 2


def test_the_keep_policy_leaves_the_rating_alone(
    client: TestClient, auth: Auth, world: World, session: Session, xyd_env
) -> None:
    xyd_env(XYD_RIGHTS_RESTRUCTURING_POLICY="keep")
    _note(client, auth, "reorganization_approved", 50)
    _note(client, auth, "plan_executed", 10)
    assert _penalty_frame_rows(session) == 1

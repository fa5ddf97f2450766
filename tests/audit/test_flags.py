"""Anomaly flags for the auditor: too many enterprises for the applications held, bulk
queries at night, and queries after a revocation; through the service, the API and the CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import Auth, World, grant, report
from xinyidai.audit import flags
from xinyidai.audit import service as audit_service
from xinyidai.cli import app as cli
from xinyidai.core import clock
from xinyidai.core.settings import AuditSettings
from xinyidai.registry import creditcode


def _query(session: Session, world: World, username: str, subject: str) -> None:
    audit_service.record_access(
        session,
        principal=world.principal(session, username),
        subject=subject,
        categories=["registration"],
        purpose="loan_application",
        outcome="allow",
        basis="public",
        letter_id=None,
        reason=None,
        granted={"registration": "public"},
        channel="test",
    )


def _codes(n: int) -> list[str]:
    return [creditcode.make(f"91450100MA{i:07d}") for i in range(1, n + 1)]


def test_an_institution_querying_far_more_enterprises_than_its_applications_is_flagged(
    world: World, session: Session
) -> None:
    settings = AuditSettings(min_subjects=5, query_ratio=2.0)
    for code in _codes(6):
        _query(session, world, "bank", code)
    for code in _codes(2):
        _query(session, world, "bank2", code)
    session.commit()
    [flag] = flags.compute(session, settings=settings)
    assert (flag.kind, flag.organization_id, flag.count, flag.applications) == (
        "excess_queries",
        world.bank_id,
        6,
        0,
    )
    grant(session, world)  # one application letter: 6 > 2 x 1 still
    grant(session, world, purpose="guarantee_review")  # same enterprise: still one
    assert [f.kind for f in flags.compute(session, settings=settings)] == ["excess_queries"]
    settings = AuditSettings(min_subjects=5, query_ratio=6.0)
    assert flags.compute(session, settings=settings) == []


def test_bulk_queries_outside_office_hours_are_flagged(world: World, session: Session) -> None:
    settings = AuditSettings(off_hours_bulk=3, min_subjects=100)
    # 2026-03-04 is a Wednesday; 23:30 in China is outside office hours, 10:00 inside.
    night = datetime(2026, 3, 4, 23, 30, tzinfo=clock.SHANGHAI)
    noon = datetime(2026, 3, 4, 10, 0, tzinfo=clock.SHANGHAI)
    for minutes in range(3):
        with clock.frozen_at(night + timedelta(minutes=minutes)):
            _query(session, world, "bank", ENTERPRISE_CODE)
    for minutes in range(5):
        with clock.frozen_at(noon + timedelta(minutes=minutes)):
            _query(session, world, "bank2", ENTERPRISE_CODE)
    session.commit()
    with clock.frozen_at(noon + timedelta(days=1)):
        found = flags.compute(session, settings=settings)
    assert [(f.kind, f.organization_id, f.count, str(f.day)) for f in found] == [
        ("off_hours_bulk", world.bank_id, 3, "2026-03-04")
    ]
    weekend = datetime(2026, 3, 7, 10, 0, tzinfo=clock.SHANGHAI)  # a Saturday
    assert flags.off_hours(weekend, settings)
    assert not flags.off_hours(weekend, AuditSettings(weekends_off=False))


def test_queries_after_a_revocation_are_flagged(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world)
    assert report(client, auth("bank")).json()["basis"] == "letter"
    assert flags.compute(session) == []
    client.post(f"/api/v1/letters/{letter.public_id}/revoke", headers=auth("enterprise"))
    assert report(client, auth("bank"), letter=letter.public_id).status_code == 403
    assert report(client, auth("bank")).status_code == 200  # public data, tax withheld
    found = client.get("/api/v1/audit/flags", headers=auth("auditor")).json()
    assert [(f["kind"], f["organization_id"], f["subject"], f["count"]) for f in found] == [
        ("after_revocation", world.bank_id, ENTERPRISE_CODE, 2)
    ]
    assert client.get("/api/v1/audit/flags", headers=auth("bank")).status_code == 403
    result = CliRunner().invoke(cli, ["audit", "flags", "--json"])
    assert result.exit_code == 0, result.output
    assert [f["kind"] for f in json.loads(result.stdout)] == ["after_revocation"]

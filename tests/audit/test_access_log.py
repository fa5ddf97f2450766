"""The audit trail: the enterprise sees who looked and why, the auditor searches and exports,
the operator counts, and every allow and deny is a leaf that ``xyd ledger verify`` checks."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from tests.consent.world import Auth, World, events, grant, report
from xinyidai.audit import service as audit_service
from xinyidai.audit.models import AccessEvent
from xinyidai.core import clock
from xinyidai.ledger import keys
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.models import LedgerEntry
from xinyidai.ledger.verify import verify_ledger


def _traffic(client: TestClient, auth: Auth, world: World, session: Session) -> None:
    """A bank reads with a letter, a second bank is refused, a platform reads public data,
    and the enterprise reads its own report."""
    grant(session, world)
    assert report(client, auth("bank")).status_code == 200
    refused = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/records",
        params={"category": "tax_payment"},
        headers=auth("bank2"),
    )
    assert refused.status_code == 403
    assert report(client, auth("platform")).status_code == 200
    assert report(client, auth("enterprise")).status_code == 200
    assert report(client, auth("bank"), code=OTHER_CODE).status_code == 200


def test_the_enterprise_sees_who_looked_at_its_data_and_why(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    _traffic(client, auth, world, session)
    log = client.get("/api/v1/me/access-log", headers=auth("enterprise")).json()
    assert log["total"] == 4
    rows = [(e["organization_name"], e["outcome"], e["basis"], e["purpose"]) for e in log["items"]]
    assert rows == [
        ("南宁示范科技有限公司", "allow", "self", "self_query"),
        ("南宁市综合金融服务平台", "allow", "public", "loan_application"),
        ("第二商业银行", "deny", None, "loan_application"),
        ("演示商业银行", "allow", "letter", "loan_application"),
    ]
    assert log["items"][3]["letter_id"]
    assert log["items"][2]["reason"] == "no_basis"
    others = client.get(
        "/api/v1/me/access-log", params={"others_only": True}, headers=auth("enterprise")
    ).json()
    assert others["total"] == 3
    paged = client.get(
        "/api/v1/me/access-log", params={"size": 2, "page": 2}, headers=auth("enterprise")
    ).json()
    assert [e["organization_name"] for e in paged["items"]] == ["第二商业银行", "演示商业银行"]
    assert client.get("/api/v1/me/access-log", headers=auth("bank")).status_code == 403


def test_every_refusal_is_logged(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    url = f"/api/v1/enterprises/{ENTERPRISE_CODE}/records"
    for username in ("bank", "bank2", "platform", "auditor"):
        response = client.get(url, params={"category": "social_insurance"}, headers=auth(username))
        assert response.status_code == 403
    denied = events(session, outcome="deny")
    assert [e.actor for e in denied] == ["user:bank", "user:bank2", "user:platform", "user:auditor"]
    assert {e.reason for e in denied} == {"no_basis"}
    assert all(e.categories == ["social_insurance"] for e in denied)


def test_the_auditor_searches_pages_and_exports(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    _traffic(client, auth, world, session)
    headers = auth("auditor")
    everything = client.get("/api/v1/audit/events", headers=headers).json()
    assert everything["total"] == 5
    by_bank = client.get(
        "/api/v1/audit/events", params={"organization": world.bank_id}, headers=headers
    ).json()
    assert {e["subject"] for e in by_bank["items"]} == {ENTERPRISE_CODE, OTHER_CODE}
    denied = client.get("/api/v1/audit/events", params={"outcome": "deny"}, headers=headers).json()
    assert [e["organization_id"] for e in denied["items"]] == [world.other_bank_id]
    of_other = client.get(
        "/api/v1/audit/events", params={"enterprise": OTHER_CODE}, headers=headers
    ).json()
    assert of_other["total"] == 1
    today = clock.today().isoformat()
    dated = client.get(
        "/api/v1/audit/events",
        params={"date_from": today, "date_to": today, "purpose": "self_query"},
        headers=headers,
    ).json()
    assert dated["total"] == 1
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    assert (
        client.get("/api/v1/audit/events", params={"date_from": tomorrow}, headers=headers).json()[
            "total"
        ]
        == 0
    )
    page = client.get("/api/v1/audit/events", params={"size": 2, "page": 3}, headers=headers).json()
    assert (len(page["items"]), page["total"]) == (1, 5)
    exported = client.get(
        "/api/v1/audit/events", params={"format": "csv", "outcome": "allow"}, headers=headers
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert len(rows) == 4
    assert {r["outcome"] for r in rows} == {"allow"}
    assert rows[0]["digest"] == events(session)[0].digest
    backwards = client.get(
        "/api/v1/audit/events", params={"date_from": tomorrow, "date_to": today}, headers=headers
    )
    assert (backwards.status_code, backwards.json()["error"]["field"]) == (422, "date_to")
    for username in ("bank", "enterprise", "operator"):
        assert client.get("/api/v1/audit/events", headers=auth(username)).status_code == 403


def test_the_operator_sees_counts(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    _traffic(client, auth, world, session)
    counts = client.get("/api/v1/audit/counts", headers=auth("operator")).json()
    assert (counts["total"], counts["allow"], counts["deny"]) == (5, 4, 1)
    assert counts["last_24_hours"] == 5
    bases = {row["key"]: (row["allow"], row["deny"]) for row in counts["by_basis"]}
    assert bases == {"-": (0, 1), "letter": (1, 0), "public": (2, 0), "self": (1, 0)}
    assert client.get("/api/v1/audit/counts", headers=auth("bank")).status_code == 403


def test_every_decision_is_in_the_ledger_and_verify_passes(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    keys.create_key()
    _traffic(client, auth, world, session)
    ledger_service.integrate(session)
    ledger_service.publish_checkpoint(session)
    session.commit()
    report_ = verify_ledger(session)
    assert report_.ok, report_.problems
    assert report_.sources["audit.access"] == 5
    assert report_.sources["consent.letter"] == 1
    assert report_.sources["consent.commitment"] == 1
    leaves = {
        ledger_service.decode_leaf(bytes(leaf))["digest"]
        for leaf in session.scalars(select(LedgerEntry.leaf))
    }
    for event in events(session):
        # Whoever knows every field of an event (who, whom, when, why, the outcome) still
        # cannot find it: its leaf holds a commitment salted with the row's 128 random bits.
        assert event.digest not in leaves
        assert event.salt is not None
        assert len(event.salt) == 16
        index = ledger_service.find_event(
            session,
            kind="audit.access",
            ref=event.public_id,
            digest=audit_service.leaf_digest(event),
        )
        assert index is not None
        checked = ledger_service.check_event(session, index=index)
        assert checked.verified
        assert checked.body == "matches"
        assert (checked.format, checked.ref) == (2, event.public_id)
        # The public leaf names nobody: not the enterprise, not the asker, not the event.
        for name in (ENTERPRISE_CODE, event.public_id, event.actor, '"access"', "system:"):
            assert name not in checked.leaf


def test_an_event_changed_behind_the_ledger_fails_verify(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    keys.create_key()
    _traffic(client, auth, world, session)
    ledger_service.integrate(session)
    ledger_service.publish_checkpoint(session)
    session.commit()
    victim = events(session, outcome="deny")[0]
    session.execute(
        update(AccessEvent).where(AccessEvent.id == victim.id).values(outcome="allow", reason=None)
    )
    session.commit()
    report_ = verify_ledger(session)
    assert not report_.ok
    assert any(victim.public_id in problem.what for problem in report_.problems)
    assert audit_service.get_or_raise(session, event_id=victim.public_id).outcome == "allow"

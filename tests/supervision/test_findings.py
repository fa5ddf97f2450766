"""Findings: opened from the access log's flags or a confirmed misuse; the institution
explains; the operator remedies or sanctions, and a sanction lowers the level or suspends
the institution. Each step is a leaf of the ledger."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import World, events, grant, report
from tests.supervision.conftest import Auth
from xinyidai.consent.models import LetterState
from xinyidai.iam import service as iam_service
from xinyidai.ledger import keys
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.verify import verify_ledger
from xinyidai.supervision.models import FindingStep

FINDINGS = "/api/v1/supervision/findings"


def _misuse(client: TestClient, auth: Auth, session: Session, world: World) -> dict[str, str]:
    letter = grant(session, world)
    assert report(client, auth("bank"), letter=letter.public_id).status_code == 200
    event = events(session, organization_id=world.bank_id)[-1]
    opened = client.post(
        FINDINGS,
        json={
            "organization_id": world.bank_id,
            "event_id": event.public_id,
            "summary": "queried beyond the loan application",
        },
        headers=auth("operator"),
    )
    assert opened.status_code == 201, opened.text
    return dict(opened.json())


def test_a_finding_is_explained_then_sanctioned_by_lowering_the_level(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    finding = _misuse(client, auth, session, world)
    assert finding["state"] == "open"
    mine = client.get(FINDINGS, headers=auth("bank")).json()
    assert [f["public_id"] for f in mine["items"]] == [finding["public_id"]]
    explained = client.post(
        f"{FINDINGS}/{finding['public_id']}/transitions",
        json={"transition": "explain", "reason": "a staff member's mistake; retrained"},
        headers=auth("bank"),
    )
    assert explained.status_code == 200, explained.text
    assert explained.json()["explanation"] == "a staff member's mistake; retrained"
    sanctioned = client.post(
        f"{FINDINGS}/{finding['public_id']}/transitions",
        json={"transition": "sanction", "sanction": "lower_level", "reason": "second time"},
        headers=auth("operator"),
    )
    assert sanctioned.status_code == 200, sanctioned.text
    assert sanctioned.json()["state"] == "sanctioned"
    table = client.get("/api/v1/supervision/institutions?size=100", headers=auth("operator"))
    bank = next(r for r in table.json()["items"] if r["organization_id"] == world.bank_id)
    assert (bank["level"], bank["open_findings"]) == ("B", 0)
    steps = session.scalars(select(FindingStep.transition).order_by(FindingStep.id))
    assert list(steps) == ["open", "explain", "sanction"]
    keys.create_key()
    ledger_service.integrate(session)
    session.commit()
    checked = verify_ledger(session)
    assert checked.ok, checked.problems


def test_a_suspension_stops_the_institution(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    finding = _misuse(client, auth, session, world)
    suspended = client.post(
        f"{FINDINGS}/{finding['public_id']}/transitions",
        json={"transition": "sanction", "sanction": "suspend", "reason": "data sold on"},
        headers=auth("operator"),
    )
    assert suspended.status_code == 200, suspended.text
    session.expire_all()
    organization = iam_service.get_organization_or_raise(session, public_id=world.bank_id)
    assert organization.state == "suspended"
    assert organization.state_reason is not None
    assert finding["public_id"] in organization.state_reason


def test_only_the_operator_sanctions_and_a_sanction_is_named(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    finding = _misuse(client, auth, session, world)
    url = f"{FINDINGS}/{finding['public_id']}/transitions"
    by_bank = client.post(
        url, json={"transition": "remedy", "reason": "done"}, headers=auth("bank")
    )
    assert by_bank.status_code == 403
    unnamed = client.post(
        url, json={"transition": "sanction", "reason": "x"}, headers=auth("operator")
    )
    assert unnamed.status_code == 422
    assert unnamed.json()["error"]["field"] == "sanction"
    no_reason = client.post(url, json={"transition": "remedy"}, headers=auth("operator"))
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["field"] == "reason"
    assert (
        client.get(f"{FINDINGS}/{finding['public_id']}", headers=auth("bank")).json()["state"]
        == "open"
    )


def test_a_misuse_needs_an_event_of_that_institution(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    report(client, auth("enterprise"))
    event = events(session)[-1]
    refused = client.post(
        FINDINGS,
        json={"organization_id": world.bank_id, "event_id": event.public_id, "summary": "x"},
        headers=auth("operator"),
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "event_id"


def test_the_access_log_flags_open_findings_once(
    client: TestClient, auth: Auth, world: World, session: Session, xyd_env: object
) -> None:
    xyd_env(XYD_AUDIT_AFTER_REVOCATION="2")  # type: ignore[operator]
    letter = grant(session, world)
    letter.state = LetterState.REVOKED
    session.commit()
    for _ in range(2):
        assert report(client, auth("bank"), letter=letter.public_id).status_code == 403
    scanned = client.post(f"{FINDINGS}/scan", headers=auth("operator"))
    assert scanned.status_code == 200, scanned.text
    found = [(f["flag"], f["flag_key"], f["organization_id"]) for f in scanned.json()]
    assert found == [("after_revocation", ENTERPRISE_CODE, world.bank_id)]
    again = client.post(f"{FINDINGS}/scan", headers=auth("operator"))
    assert again.json() == []

"""The read gate: an institution reads non-public data only with the confidentiality
agreement in force signed and a passed, unexpired security assessment; a refusal names
its reason and is logged as an access event, and public data stays readable."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.consent.world import World, events, grant, report
from tests.supervision.conftest import Auth
from xinyidai.core import clock
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import ReadClearance
from xinyidai.supervision.service import assessments


def _clearance(session: Session) -> ReadClearance:
    bank = iam_service.get_user_or_raise(session, username="bank").organization
    row = iam_service.clearance.clearance_of(session, organization_id=bank.id)
    assert row is not None
    return row


def test_a_certified_bank_reads_under_its_letter(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world)
    named = report(client, auth("bank"), letter=letter.public_id)
    assert named.status_code == 200, named.text
    assert named.json()["basis"] == "letter"


def test_an_expired_assessment_limits_reads_to_public_data(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world)
    _clearance(session).assessment_expires_on = clock.today() - timedelta(days=1)
    session.commit()
    named = report(client, auth("bank"), letter=letter.public_id)
    assert named.status_code == 403
    error = named.json()["error"]
    assert (error["code"], error["field"]) == ("assessment_lapsed", "assessment")
    unnamed = report(client, auth("bank"))  # without naming the letter: public data only
    assert unnamed.status_code == 200
    assert unnamed.json()["basis"] == "public"
    assert unnamed.json()["withheld"]["tax_payment"] == "assessment_lapsed"
    refused, answered = events(session)
    assert (refused.outcome, refused.reason) == ("deny", "assessment_lapsed")
    assert (answered.outcome, answered.basis) == ("allow", "public")
    session.refresh(letter)
    assert letter.queries_used == 0


def test_a_new_agreement_version_must_be_signed_within_the_grace_period(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world)
    published = client.post(
        "/api/v1/supervision/agreement",
        json={"title": "信用信息保密协议（第二版）", "body": "新增：跨境传输须事先报告。"},
        headers=auth("operator"),
    )
    assert published.status_code == 201, published.text
    assert published.json()["version"] == 2
    # within the grace period the bank still reads
    assert report(client, auth("bank"), letter=letter.public_id).status_code == 200
    row = _clearance(session)
    assert row.agreement_due_at is not None
    row.agreement_due_at = clock.now() - timedelta(minutes=1)
    session.commit()
    late = report(client, auth("bank"), letter=letter.public_id)
    assert late.status_code == 403
    assert late.json()["error"]["code"] == "agreement_lapsed"
    signed = client.post(
        "/api/v1/supervision/agreement/signatures",
        json={"version": 2, "accept": True},
        headers=auth("bank"),
    )
    assert signed.status_code == 201, signed.text
    again = report(client, auth("bank"), letter=letter.public_id)
    assert again.status_code == 200, again.text


def test_an_institution_that_never_signed_reads_nothing_private(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world)
    session.delete(_clearance(session))
    session.commit()
    refused = report(client, auth("bank"), letter=letter.public_id)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "agreement_unsigned"


def test_the_gate_can_be_switched_off(
    client: TestClient, auth: Auth, world: World, session: Session, xyd_env: object
) -> None:
    letter = grant(session, world)
    session.delete(_clearance(session))
    session.commit()
    xyd_env(XYD_SUPERVISION_READ_GATE="false")  # type: ignore[operator]
    assert report(client, auth("bank"), letter=letter.public_id).status_code == 200


def test_signing_an_old_version_or_without_accepting_is_refused(
    client: TestClient, auth: Auth, world: World
) -> None:
    stale = client.post(
        "/api/v1/supervision/agreement/signatures",
        json={"version": 9, "accept": True},
        headers=auth("bank"),
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["field"] == "version"
    unread = client.post(
        "/api/v1/supervision/agreement/signatures",
        json={"version": 1, "accept": False},
        headers=auth("bank"),
    )
    assert unread.status_code == 422
    assert unread.json()["error"]["field"] == "accept"
    twice = client.post(
        "/api/v1/supervision/agreement/signatures",
        json={"version": 1, "accept": True},
        headers=auth("bank"),
    )
    assert twice.status_code == 409


def test_the_daily_round_lapses_expired_assessments_and_reminds_near_ones(
    session: Session, world: World
) -> None:
    today = clock.today()
    bank = iam_service.get_user_or_raise(session, username="bank").organization
    standing = assessments.standing(session, organization_id=bank.public_id)
    assert standing is not None
    standing.expires_on = today + timedelta(days=5)
    reminded = assessments.remind_due(session, today=today)
    assert [r.public_id for r in reminded] == [standing.public_id]
    assert assessments.remind_due(session, today=today) == []  # once
    assert assessments.lapse_due(session, today=today + timedelta(days=6)) == 1
    assert standing.state == "lapsed"

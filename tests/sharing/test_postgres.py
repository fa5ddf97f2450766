"""Risk sharing on PostgreSQL (its lengths and locks enforced): a claim from filing to
recovery, subsidies applied, paid and clawed back, a scheme's versions, the refusals."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.market.conftest import Auth, principal_of
from tests.sharing import test_claims, test_refusals, test_schemes, test_subsidies
from tests.sharing.conftest import disbursed_loan
from tests.sharing.test_pages import Portal
from xinyidai.core import clock
from xinyidai.core import db as core_db
from xinyidai.core.errors import Conflict
from xinyidai.sharing.models import SubsidyBatch, SubsidyLine
from xinyidai.sharing.service import subsidies

pytestmark = pytest.mark.postgres


@pytest.fixture
def db_url(pg_url: str) -> str:
    return pg_url


def test_a_claim_from_filing_to_recovery_on_postgres(
    client: TestClient, auth: Auth, scheme: dict[str, Any], session: Session
) -> None:
    test_claims.test_a_claim_from_filing_to_recovery(client, auth, scheme, session)


def test_subsidies_on_postgres(
    client: TestClient, auth: Auth, guarantor: str, session: Session, portal: Portal
) -> None:
    test_subsidies.test_a_bank_applies_for_a_month_and_the_enterprise_is_paid(
        client, auth, guarantor, session, portal
    )


def test_clawback_on_postgres(
    client: TestClient, auth: Auth, guarantor: str, session: Session
) -> None:
    test_subsidies.test_a_paid_subsidy_is_clawed_back_when_the_loan_defaults(
        client, auth, guarantor, session
    )


def test_versions_on_postgres(client: TestClient, auth: Auth, scheme: dict[str, Any]) -> None:
    test_schemes.test_editing_an_active_scheme_makes_a_version_and_loans_keep_theirs(
        client, auth, scheme
    )


def test_refusals_on_postgres(
    client: TestClient, auth: Auth, scheme: dict[str, Any], session: Session
) -> None:
    test_refusals.test_a_second_claim_for_a_loan_is_refused(client, auth, scheme, session)
    test_refusals.test_a_claim_on_a_current_loan_is_refused(client, auth, scheme, session)


def test_two_applications_at_once_subsidise_a_repayment_once(
    client: TestClient, auth: Auth, guarantor: str, session: Session
) -> None:
    """The second of two simultaneous applications waits on the first's unique key and is
    answered 409 (or, if it read after the first committed, finds nothing new): never a
    500, never a repayment subsidised twice, never a half-written batch."""
    scheme = test_subsidies._scheme(client, auth)
    loan = disbursed_loan(client, auth)
    test_subsidies._repay_first_instalment(client, auth, loan)
    bank = principal_of(session, "bank")
    today = clock.today()
    period = {"start": today.replace(day=1), "end": today}

    first = core_db.new_session()
    made = subsidies.apply(first, principal=bank, scheme_id=scheme["id"], **period)
    assert made.lines == 1  # flushed, not committed: its unique keys are held
    outcome: list[object] = []

    def second_application() -> None:
        other = core_db.new_session()
        try:
            outcome.append(
                subsidies.apply(other, principal=bank, scheme_id=scheme["id"], **period).lines
            )
            other.commit()
        except Conflict as exc:
            other.rollback()
            outcome.append(exc)
        finally:
            other.close()

    racer = threading.Thread(target=second_application)
    racer.start()
    time.sleep(1.0)  # the second reads "nothing done yet" and waits on the first's keys
    first.commit()
    first.close()
    racer.join(timeout=30)
    assert len(outcome) == 1
    assert isinstance(outcome[0], Conflict) or outcome[0] == 0, outcome
    if isinstance(outcome[0], Conflict):
        assert outcome[0].field == "scheme_id"
    session.expire_all()
    lines = session.scalars(select(SubsidyLine)).all()
    assert [line.repayment_id for line in lines] == [lines[0].repayment_id]
    batches = session.scalars(select(SubsidyBatch)).all()
    assert [batch.lines for batch in batches] == [1] * len(batches)  # none half-written

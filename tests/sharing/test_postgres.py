"""Risk sharing on PostgreSQL (its lengths and locks enforced): a claim from filing to
recovery, subsidies applied, paid and clawed back, a scheme's versions, the refusals."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.market.conftest import Auth
from tests.sharing import test_claims, test_refusals, test_schemes, test_subsidies
from tests.sharing.test_pages import Portal

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

"""The consent and audit pages through HTTP: an enterprise grants, answers and revokes
letters and reads who looked at its data; an institution asks for a letter and reads the
report; the auditor searches, exports and reads the flags; the operator sees counts."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import (
    LEGAL_REPRESENTATIVE,
    PHONE,
    TAX_PAID,
    World,
    count,
    events,
    grant,
)
from tests.web.conftest import csrf_of
from xinyidai.consent.models import AuthorizationLetter, CommitmentSignature
from xinyidai.core import clock

Portal = Callable[[str], TestClient]
LETTER_URL = re.compile(r"^/consent/letters/(aut_[0-9a-z_]+)$")


def _grant_form(client: TestClient, **fields: object) -> object:
    page = client.get("/consent/letters/new")
    assert page.status_code == 200
    data: dict[str, object] = {
        "csrf_token": csrf_of(page.text),
        "categories": ["tax_payment"],
        "purpose": "loan_application",
        "view": "full",
        "valid_until": (clock.today() + timedelta(days=30)).isoformat(),
        "fetch_mode": "on_demand",
        "data_life_days": "60",
    } | fields
    return client.post("/consent/letters", data=data, follow_redirects=False)


def test_the_enterprise_grants_and_revokes_a_letter_in_the_portal(
    portal: Portal, world: World, session: Session
) -> None:
    client = portal("enterprise")
    response = _grant_form(client, grantee_id=world.bank_id)
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    match = LETTER_URL.match(response.headers["location"])  # type: ignore[attr-defined]
    assert match
    letter_id = match.group(1)
    listed = client.get("/consent/letters").text
    assert letter_id in listed
    assert "演示商业银行" in listed
    page = client.get(f"/consent/letters/{letter_id}")
    assert 'data-state="active"' in page.text
    revoked = client.post(
        f"/consent/letters/{letter_id}/revoke",
        data={"csrf_token": csrf_of(page.text), "reason": "贷款已结清"},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    after = client.get(f"/consent/letters/{letter_id}").text
    assert 'data-state="revoked"' in after
    assert "贷款已结清" in after


def test_a_bad_letter_form_shows_the_error_by_its_field_and_stores_nothing(
    portal: Portal, world: World, session: Session
) -> None:
    client = portal("enterprise")
    before = count(session, AuthorizationLetter)
    no_grantee = _grant_form(client, grantee_id="")
    assert no_grantee.status_code == 422  # type: ignore[attr-defined]
    assert 'data-error-for="grantee_id"' in no_grantee.text  # type: ignore[attr-defined]
    backwards = _grant_form(
        client,
        grantee_id=world.bank_id,
        data_from="2025-06-01",
        data_until="2025-01-01",
    )
    assert 'data-error-for="data_until"' in backwards.text  # type: ignore[attr-defined]
    assert 'value="tax_payment" checked' in backwards.text  # type: ignore[attr-defined]
    nothing = _grant_form(client, grantee_id=world.bank_id, categories=[])
    assert 'data-error-for="categories"' in nothing.text  # type: ignore[attr-defined]
    assert count(session, AuthorizationLetter) == before


def test_an_institution_asks_the_enterprise_approves_and_the_report_opens(
    portal: Portal, world: World, session: Session
) -> None:
    client = portal("bank")
    asked = _grant_form(client, credit_code=ENTERPRISE_CODE)
    assert asked.status_code == 303, asked.text  # type: ignore[attr-defined]
    letter_id = LETTER_URL.match(asked.headers["location"]).group(1)  # type: ignore[attr-defined, union-attr]
    refused = client.get(f"/consent/report/{ENTERPRISE_CODE}?letter={letter_id}")
    assert refused.status_code == 403
    assert letter_id in refused.text
    client.cookies.clear()
    client = portal("enterprise")
    listing = client.get("/consent/letters?state=pending")
    assert letter_id in listing.text
    approved = client.post(
        f"/consent/letters/{letter_id}/approve",
        data={"csrf_token": csrf_of(listing.text), "back": "list"},
        follow_redirects=False,
    )
    assert approved.headers["location"] == "/consent/letters"
    client.cookies.clear()
    client = portal("bank")
    detail = client.get(f"/consent/letters/{letter_id}").text
    assert 'data-testid="report-link"' in detail
    report = client.get(f"/consent/report/{ENTERPRISE_CODE}?letter={letter_id}")
    assert report.status_code == 200
    assert TAX_PAID in report.text
    assert LEGAL_REPRESENTATIVE in report.text  # published with the registration (公示)
    assert PHONE not in report.text  # personal information stays masked
    assert "138****5678" in report.text
    assert [(e.channel, e.outcome) for e in events(session)] == [
        ("portal:report", "deny"),
        ("portal:report", "allow"),
    ]


def test_the_enterprise_signs_the_commitment_and_sees_its_access_log(
    portal: Portal, world: World, session: Session
) -> None:
    session.query(CommitmentSignature).delete()
    session.commit()
    client = portal("enterprise")
    assert 'data-testid="sign-first"' in client.get("/consent/letters").text
    page = client.get("/consent/commitment")
    assert "信用承诺书" in page.text
    unticked = client.post(
        "/consent/commitment", data={"csrf_token": csrf_of(page.text), "version": "1"}
    )
    assert unticked.status_code == 422
    assert 'data-error-for="agree"' in unticked.text
    signed = client.post(
        "/consent/commitment",
        data={"csrf_token": csrf_of(page.text), "version": "1", "agree": "yes"},
    )
    assert 'data-testid="signed"' in signed.text
    grant(session, world)
    client.cookies.clear()
    portal("bank").get(f"/consent/report/{ENTERPRISE_CODE}")
    client.cookies.clear()
    client = portal("enterprise")
    log = client.get("/consent/access-log").text
    assert "演示商业银行" in log
    assert 'data-outcome="allow"' in log


def test_the_auditor_searches_exports_and_reads_flags(
    portal: Portal, world: World, session: Session
) -> None:
    letter = grant(session, world)
    client = portal("bank")
    client.get(f"/consent/report/{ENTERPRISE_CODE}")
    client.cookies.clear()
    client = portal("enterprise")
    page = client.get(f"/consent/letters/{letter.public_id}")
    client.post(
        f"/consent/letters/{letter.public_id}/revoke",
        data={"csrf_token": csrf_of(page.text)},
    )
    client.cookies.clear()
    client = portal("bank")
    client.get(f"/consent/report/{ENTERPRISE_CODE}?letter={letter.public_id}")
    client.cookies.clear()
    client = portal("auditor")
    found = client.get(f"/audit/events?organization={world.bank_id}&outcome=deny")
    assert found.status_code == 200
    assert found.text.count('data-outcome="deny"') == 1
    bad = client.get("/audit/events?date_from=2026-13-01")
    assert bad.status_code == 422
    assert 'data-error-for="date_from"' in bad.text
    exported = client.get(f"/audit/events.csv?organization={world.bank_id}")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert [r["outcome"] for r in rows] == ["allow", "deny"]
    flags = client.get("/audit/flags").text
    assert 'data-flag="after_revocation"' in flags
    assert client.get("/privacy").status_code == 200
    client.cookies.clear()
    assert portal("bank").get("/audit/events").status_code == 403


def test_the_operator_dashboard_counts_access(
    portal: Portal, world: World, session: Session
) -> None:
    grant(session, world)
    portal("bank").get(f"/consent/report/{ENTERPRISE_CODE}")
    html = portal("operator").get("/dashboard").text
    assert re.search(r'data-count="total">1<', html)
    assert re.search(r'data-count="allow">1<', html)
    privacy = portal("operator").get("/privacy").text
    assert 'data-category="tax_payment"' in privacy
    assert "legal_representative" in privacy


def test_a_commitment_version_past_an_integer_is_a_form_error(
    portal: Portal, world: World, session: Session
) -> None:
    session.query(CommitmentSignature).delete()
    session.commit()
    client = portal("enterprise")
    page = client.get("/consent/commitment")
    refused = client.post(
        "/consent/commitment",
        data={"csrf_token": csrf_of(page.text), "version": "9" * 20, "agree": "yes"},
    )
    assert refused.status_code == 422
    assert 'data-error-for="version"' in refused.text
    assert "必须在 0 到 2147483647 之间" in refused.text
    assert session.query(CommitmentSignature).count() == 0

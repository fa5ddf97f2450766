"""The profile pages through HTTP: each role finds and reads an enterprise's profile as the
access decision allows, with one audit event per view, and downloads the PDF report."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import (
    LEGAL_REPRESENTATIVE,
    PHONE,
    TAX_PAID,
    World,
    events,
    grant,
)
from tests.profile.test_api import EVERYTHING, pdf_text
from xinyidai.consent import service as consent_service

Portal = Callable[[str], TestClient]
PAGE = f"/profile/{ENTERPRISE_CODE}"


def test_the_enterprise_reads_its_own_profile(
    portal: Portal, world: World, session: Session
) -> None:
    client = portal("enterprise")
    found = client.get("/profile", follow_redirects=False)
    assert (found.status_code, found.headers["location"]) == (303, PAGE)
    html = client.get(PAGE).text
    assert "南宁示范科技有限公司" in html
    assert LEGAL_REPRESENTATIVE in html
    assert '<dd data-status="active">存续</dd>' in html
    assert 'data-testid="rating-card"' in html
    assert 'data-testid="association-graph"' in html
    assert TAX_PAID in html
    assert "纳税信息" in html or "tax_payment" in html
    [event] = events(session)
    assert (event.channel, event.outcome) == ("portal:profile", "allow")


def test_a_bank_without_a_letter_sees_why_parts_are_missing(
    portal: Portal, world: World, session: Session
) -> None:
    html = portal("bank").get(PAGE).text
    assert 'data-testid="rating-withheld"' in html
    assert TAX_PAID not in html
    # the legal representative's name is published with the registration: as in the directory
    assert f'<dd data-testid="legal-representative">{LEGAL_REPRESENTATIVE}</dd>' in html
    assert PHONE not in html
    assert 'data-part="rating"' in html
    assert 'data-part="associations"' in html
    assert len(events(session)) == 1


def test_a_bank_with_a_letter_reads_everything_it_covers_and_downloads_the_pdf(
    portal: Portal, world: World, session: Session
) -> None:
    letter = grant(session, world, categories=EVERYTHING)
    client = portal("bank")
    letter_page = client.get(f"/consent/letters/{letter.public_id}").text
    assert f'href="{PAGE}?letter={letter.public_id}&amp;purpose=loan_application"' in letter_page
    html = client.get(PAGE, params={"letter": letter.public_id}).text
    assert 'data-testid="rating-card"' in html
    assert TAX_PAID in html
    assert f"/profile/{ENTERPRISE_CODE}/pdf?letter={letter.public_id}" in html
    pdf = client.get(f"{PAGE}/pdf", params={"letter": letter.public_id})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    channels = [e.channel for e in events(session)]
    assert channels == ["portal:profile", "portal:profile.pdf"]
    assert events(session)[-1].public_id in pdf_text(pdf.content)


def test_a_revoked_letter_shows_a_refusal_and_logs_it(
    portal: Portal, world: World, session: Session
) -> None:
    letter = grant(session, world, categories=EVERYTHING)
    consent_service.revoke(
        session, principal=world.principal(session, "enterprise"), letter=letter, reason=None
    )
    session.commit()
    page = portal("bank").get(PAGE, params={"letter": letter.public_id})
    assert page.status_code == 403
    assert TAX_PAID not in page.text
    assert events(session)[-1].outcome == "deny"


def test_the_operator_searches_by_name_and_unknown_codes_are_not_found(
    portal: Portal, world: World, session: Session
) -> None:
    client = portal("operator")
    found = client.get("/profile", params={"q": "南宁"})
    assert found.status_code == 200
    assert f'href="{PAGE}"' in found.text
    one = client.get("/profile", params={"q": "示范科技"}, follow_redirects=False)
    assert (one.status_code, one.headers["location"]) == (303, PAGE)
    assert client.get("/profile/91450100MA5K0009XX").status_code == 404
    assert events(session) == []


def test_a_bank_must_give_a_valid_code(portal: Portal, world: World) -> None:
    client = portal("bank")
    bad = client.get("/profile", params={"q": "not-a-code"})
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text
    good = client.get("/profile", params={"q": ENTERPRISE_CODE}, follow_redirects=False)
    assert good.headers["location"] == PAGE


def test_auditors_and_departments_have_no_profile_pages(portal: Portal, world: World) -> None:
    assert portal("auditor").get(PAGE).status_code == 403
    assert portal("provider-tax").get(PAGE).status_code == 403

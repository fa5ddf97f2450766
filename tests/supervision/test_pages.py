"""The portal's supervision pages, in Chinese by default: an applicant signs the agreement
and fills in its assessment with evidence; the operator sees the institutions by level,
the queue, reviews item by item and decides."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.supervision.conftest import APPLICANT, PDF, Auth, Headers
from tests.web.conftest import csrf_of, sign_in
from xinyidai.supervision.service import assessments, checklist

Portal = Callable[[str], TestClient]


def test_an_applicant_signs_and_fills_in_from_the_portal(
    client: TestClient, session: Session, applicant: tuple[str, Headers]
) -> None:
    org_id, _ = applicant
    assert sign_in(client, APPLICANT["username"], APPLICANT["password"]).status_code == 303
    page = client.get("/supervision")
    assert page.status_code == 200, page.text
    assert "信用信息保密协议" in page.text
    assert 'data-hold="agreement_unsigned"' in page.text
    token = csrf_of(page.text)
    unticked = client.post(
        "/supervision/agreement/sign", data={"csrf_token": token, "version": "1"}
    )
    assert unticked.status_code == 422
    assert 'data-error-for="accept"' in unticked.text
    signed = client.post(
        "/supervision/agreement/sign",
        data={"csrf_token": token, "version": "1", "accept": "yes"},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    opened = client.post(
        "/supervision/assessments", data={"csrf_token": token}, follow_redirects=False
    )
    assert opened.status_code == 303
    current = assessments.open_of(session, organization_id=org_id)
    assert current is not None
    early = client.post(
        f"/supervision/assessments/{current.public_id}/submit", data={"csrf_token": token}
    )
    assert early.status_code == 422
    assert 'data-error-for="answers.dpo"' in early.text
    for item in checklist.items(session):
        saved = client.post(
            f"/supervision/assessments/{current.public_id}/answers",
            data={"csrf_token": token, "item_code": item.code, "statement": "见附件"},
            files={"evidence": (f"{item.code}.pdf", PDF, "application/pdf")},
            follow_redirects=False,
        )
        assert saved.status_code == 303, saved.text
    handed_in = client.post(
        f"/supervision/assessments/{current.public_id}/submit",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert handed_in.status_code == 303
    after = client.get("/supervision")
    assert "等待审核" in after.text


def test_the_operator_reviews_and_decides_from_the_portal(
    client: TestClient, auth: Auth, session: Session, applicant: tuple[str, Headers], portal: Portal
) -> None:
    from tests.supervision.conftest import filled_and_submitted, sign

    org_id, headers = applicant
    sign(client, headers)
    assessment_id = filled_and_submitted(client, headers)
    operator = portal("operator")
    page = operator.get("/supervision")
    assert page.status_code == 200
    assert "机构监管" in page.text
    assert f'data-assessment="{assessment_id}"' in page.text
    assert f'data-institution="{org_id}"' in page.text
    detail = operator.get(f"/supervision/assessments/{assessment_id}")
    token = csrf_of(detail.text)
    for item in checklist.items(session):
        reviewed = operator.post(
            f"/supervision/assessments/{assessment_id}/review",
            data={
                "csrf_token": token,
                "item_code": item.code,
                "verdict": "accepted",
                "score": "90",
            },
            follow_redirects=False,
        )
        assert reviewed.status_code == 303, reviewed.text
    bad = operator.post(
        f"/supervision/assessments/{assessment_id}/decide",
        data={"csrf_token": token, "outcome": "pass", "level": "A", "valid_days": "5"},
    )
    assert bad.status_code == 422
    assert 'data-error-for="valid_days"' in bad.text
    decided = operator.post(
        f"/supervision/assessments/{assessment_id}/decide",
        data={"csrf_token": token, "outcome": "pass", "level": "A"},
        follow_redirects=False,
    )
    assert decided.status_code == 303, decided.text
    table = operator.get("/supervision")
    assert f'data-institution="{org_id}" data-level="A"' in table.text


def test_an_enterprise_may_not_open_supervision(portal: Portal) -> None:
    assert portal("enterprise").get("/supervision").status_code == 403

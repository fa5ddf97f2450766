"""An institution joins: it signs the confidentiality agreement, fills in the security
assessment with evidence, the operator reviews item by item and passes it at a level, and
only then approves the institution."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.supervision.conftest import (
    Auth,
    Headers,
    answer,
    checklist,
    filled_and_submitted,
    review_all,
    sign,
)
from xinyidai.core import clock
from xinyidai.iam import service as iam_service
from xinyidai.ledger import keys
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.verify import verify_ledger
from xinyidai.supervision.models import Answer, AssessmentStep
from xinyidai.supervision.service import assessments


def test_an_applicant_is_assessed_then_approved(
    client: TestClient, auth: Auth, session: Session, applicant: tuple[str, Headers]
) -> None:
    org_id, headers = applicant
    operator = auth("operator")
    signature = sign(client, headers)
    assert signature["organization_id"] == org_id
    assessment_id = filled_and_submitted(client, headers)

    queue = client.get("/api/v1/supervision/assessments/queue", headers=operator).json()
    assert [a["public_id"] for a in queue["items"]] == [assessment_id]
    refused = client.post(f"/api/v1/organizations/{org_id}/approve", headers=operator)
    assert refused.status_code == 409
    assert refused.json()["error"]["field"] == "assessment"

    review_all(client, operator, assessment_id, score=80)
    passed = client.post(
        f"/api/v1/supervision/assessments/{assessment_id}/decision",
        json={"outcome": "pass", "level": "B", "conditions": "quarterly access review"},
        headers=operator,
    )
    assert passed.status_code == 200, passed.text
    body = passed.json()
    assert (body["state"], body["level"], body["score"]) == ("passed", "B", 80)
    assert body["expires_on"] > clock.today().isoformat()

    approved = client.post(f"/api/v1/organizations/{org_id}/approve", headers=operator)
    assert approved.status_code == 200, approved.text
    table = client.get("/api/v1/supervision/institutions?size=100", headers=operator).json()
    row = next(r for r in table["items"] if r["organization_id"] == org_id)
    assert (row["level"], row["hold"], row["agreement_version"]) == ("B", None, 1)
    # every move of the assessment is a leaf of the ledger, and the trail verifies
    assessment = assessments.get_or_raise(session, assessment_id=assessment_id)
    steps = session.scalars(
        select(AssessmentStep.transition)
        .where(AssessmentStep.assessment_id == assessment.id)
        .order_by(AssessmentStep.id)
    )
    assert list(steps) == ["open", "submit", "pass"]
    keys.create_key()
    ledger_service.integrate(session)
    session.commit()
    checked = verify_ledger(session)
    assert checked.ok, checked.problems


def test_submitting_without_evidence_for_a_required_item_is_refused(
    client: TestClient, applicant: tuple[str, Headers], session: Session
) -> None:
    _, headers = applicant
    assessment_id = client.post("/api/v1/supervision/assessments", headers=headers).json()[
        "public_id"
    ]
    items = checklist(client, headers)
    for item in items[:-1]:
        answer(client, headers, assessment_id, item["code"])
    last = items[-1]["code"]
    answer(client, headers, assessment_id, last, evidence=None)  # said, but not shown
    refused = client.post(
        f"/api/v1/supervision/assessments/{assessment_id}/submit", headers=headers
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == f"answers.{last}"
    detail = client.get(f"/api/v1/supervision/assessments/{assessment_id}", headers=headers)
    assert detail.json()["state"] == "draft"
    assessment = assessments.get_or_raise(session, assessment_id=assessment_id)
    assert session.scalar(
        select(func.count()).select_from(Answer).where(Answer.assessment_id == assessment.id)
    ) == len(items)


def test_evidence_must_be_a_document(client: TestClient, applicant: tuple[str, Headers]) -> None:
    _, headers = applicant
    assessment_id = client.post("/api/v1/supervision/assessments", headers=headers).json()[
        "public_id"
    ]
    refused = answer(
        client, headers, assessment_id, "dpo", evidence=b"MZ\x90\x00 not a pdf", expect=422
    )
    assert refused["error"]["field"] == "evidence"
    unknown = answer(client, headers, assessment_id, "no_such_item", expect=422)
    assert unknown["error"]["field"] == "item_code"


def test_only_the_operator_decides(
    client: TestClient, auth: Auth, applicant: tuple[str, Headers]
) -> None:
    _, headers = applicant
    assessment_id = filled_and_submitted(client, headers)
    for who in (headers, auth("bank")):
        refused = client.post(
            f"/api/v1/supervision/assessments/{assessment_id}/decision",
            json={"outcome": "pass", "level": "A"},
            headers=who,
        )
        assert refused.status_code == 403, refused.text
    state = client.get(f"/api/v1/supervision/assessments/{assessment_id}", headers=headers)
    assert state.json()["state"] == "submitted"


def test_a_decision_needs_every_item_reviewed_and_a_level(
    client: TestClient, auth: Auth, applicant: tuple[str, Headers]
) -> None:
    _, headers = applicant
    operator = auth("operator")
    assessment_id = filled_and_submitted(client, headers)
    early = client.post(
        f"/api/v1/supervision/assessments/{assessment_id}/decision",
        json={"outcome": "pass", "level": "A"},
        headers=operator,
    )
    assert early.status_code == 409
    assert early.json()["error"]["field"] == "answers"
    review_all(client, operator, assessment_id)
    no_level = client.post(
        f"/api/v1/supervision/assessments/{assessment_id}/decision",
        json={"outcome": "pass", "level": "Z"},
        headers=operator,
    )
    assert no_level.status_code == 422
    assert no_level.json()["error"]["field"] == "level"
    no_reason = client.post(
        f"/api/v1/supervision/assessments/{assessment_id}/decision",
        json={"outcome": "fail"},
        headers=operator,
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["field"] == "reason"
    failed = client.post(
        f"/api/v1/supervision/assessments/{assessment_id}/decision",
        json={"outcome": "fail", "reason": "no incident-response drill"},
        headers=operator,
    )
    assert failed.json()["state"] == "failed"


def test_a_rejected_required_item_cannot_pass(
    client: TestClient, auth: Auth, applicant: tuple[str, Headers]
) -> None:
    _, headers = applicant
    operator = auth("operator")
    assessment_id = filled_and_submitted(client, headers)
    review_all(client, operator, assessment_id)
    client.post(
        f"/api/v1/supervision/assessments/{assessment_id}/reviews",
        json={"item_code": "encryption", "verdict": "rejected", "score": 10},
        headers=operator,
    )
    refused = client.post(
        f"/api/v1/supervision/assessments/{assessment_id}/decision",
        json={"outcome": "pass", "level": "C"},
        headers=operator,
    )
    assert refused.status_code == 409
    assert "encryption" in refused.json()["error"]["message"]


def test_the_operator_edits_the_checklist(client: TestClient, auth: Auth) -> None:
    operator = auth("operator")
    added = client.post(
        "/api/v1/supervision/checklist",
        json={"code": "vendor_review", "title": "外包服务商审查", "weight": 5, "position": 999},
        headers=operator,
    )
    assert added.status_code == 200, added.text
    codes = [i["code"] for i in checklist(client, operator)]
    assert codes[-1] == "vendor_review"
    refused = client.post(
        "/api/v1/supervision/checklist",
        json={"code": "x", "title": "x"},
        headers=auth("bank"),
    )
    assert refused.status_code == 403


def test_an_organization_that_is_no_institution_is_not_assessed(
    client: TestClient, auth: Auth, session: Session
) -> None:
    refused = client.post("/api/v1/supervision/assessments", headers=auth("enterprise"))
    assert refused.status_code == 403
    assert iam_service.get_user(session, username="enterprise") is not None

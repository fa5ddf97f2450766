"""Fixtures of the supervision tests: an institution that applies through the API, helpers
to answer the checklist with evidence, and the operator's review."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.accounts import token_for
from tests.web.conftest import portal  # noqa: F401

Headers = dict[str, str]
Auth = Callable[[str], Headers]

PDF = b"%PDF-1.4\n%evidence\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
APPLICANT = {
    "name": "北部湾典当行",
    "institution_type": "pawnshop",
    "licence_number": "P0001H245010001",
    "contact_name": "王经理",
    "username": "beibu-pawn",
    "password": "a-good-password",
}


@pytest.fixture
def applicant(client: TestClient, demo: object) -> tuple[str, Headers]:
    """A pawnshop that applied to join (pending): its id and its bearer headers."""
    applied = client.post("/api/v1/registrations/institution", json=APPLICANT)
    assert applied.status_code == 201, applied.text
    headers = {"Authorization": f"Bearer {token_for(client, 'beibu-pawn', 'a-good-password')}"}
    return applied.json()["organization"]["public_id"], headers


def checklist(client: TestClient, headers: Headers) -> list[dict[str, Any]]:
    response = client.get("/api/v1/supervision/checklist", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def answer(
    client: TestClient,
    headers: Headers,
    assessment_id: str,
    code: str,
    *,
    evidence: bytes | None = PDF,
    expect: int = 200,
) -> dict[str, Any]:
    files = {"evidence": (f"{code}.pdf", evidence, "application/pdf")} if evidence else None
    response = client.post(
        f"/api/v1/supervision/assessments/{assessment_id}/answers",
        data={"item_code": code, "statement": f"{code}: our policy, attached"},
        files=files,
        headers=headers,
    )
    assert response.status_code == expect, response.text
    return dict(response.json())


def filled_and_submitted(client: TestClient, headers: Headers) -> str:
    """Open an assessment, answer every item with evidence and submit it; its id."""
    opened = client.post("/api/v1/supervision/assessments", headers=headers)
    assert opened.status_code == 201, opened.text
    assessment_id = str(opened.json()["public_id"])
    for item in checklist(client, headers):
        answer(client, headers, assessment_id, item["code"])
    submitted = client.post(
        f"/api/v1/supervision/assessments/{assessment_id}/submit", headers=headers
    )
    assert submitted.status_code == 200, submitted.text
    return assessment_id


def review_all(client: TestClient, operator: Headers, assessment_id: str, score: int = 85) -> None:
    detail = client.get(f"/api/v1/supervision/assessments/{assessment_id}", headers=operator)
    for item in detail.json()["answers"]:
        reviewed = client.post(
            f"/api/v1/supervision/assessments/{assessment_id}/reviews",
            json={"item_code": item["item_code"], "verdict": "accepted", "score": score},
            headers=operator,
        )
        assert reviewed.status_code == 200, reviewed.text


def sign(client: TestClient, headers: Headers) -> dict[str, Any]:
    version = client.get("/api/v1/supervision/agreement", headers=headers).json()["version"]
    signed = client.post(
        "/api/v1/supervision/agreement/signatures",
        json={"version": version, "accept": True},
        headers=headers,
    )
    assert signed.status_code == 201, signed.text
    return dict(signed.json())

"""What anyone can learn from the public ledger: replaying the guessing attack on its leaves.

A department pushes a tax credit grade; an anonymous reader of ``GET /ledger/entries``
knows the enterprise (its credit code, name, region and tax office are public) and the
category's layout (the catalogue is public), so only the grade, the year and the day of
rating are unknown: a few thousand guesses. Hashing each guess must match no leaf, and no
leaf may name the enterprise, the department or the record.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.conftest import XydEnv
from xinyidai.ledger import keys
from xinyidai.records.models import CreditRecord

API = "/api/v1/ledger"
Auth = Callable[[str], dict[str, str]]
NAME = "南宁示范科技有限公司"
TAX_OFFICE = "国家税务总局南宁市青秀区税务局"
GRADE = "B"
YEAR = 2024
RATED_ON = "2025-04-18"


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _guesses(shape: dict[str, Any]) -> dict[str, tuple[str, int, str]]:
    """Hex SHA-256 of every plausible record → the (grade, year, day) it guesses."""
    found = {}
    for year in range(2019, 2026):
        first = date(year + 1, 1, 1)
        for offset in range((date(year + 2, 1, 1) - first).days):
            day = (first + timedelta(days=offset)).isoformat()
            for grade in ("A", "B", "M", "C", "D"):
                data = shape | {"grade": grade, "year": year, "rated_on": day}
                found[hashlib.sha256(_canonical(data)).hexdigest()] = (grade, year, day)
    return found


@pytest.fixture
def pushed(client: TestClient, auth: Auth, session: Session, xyd_env: XydEnv) -> CreditRecord:
    """The tax department pushes one tax grade of the demo enterprise through the API."""
    xyd_env(XYD_LEDGER_CHECKPOINT_INTERVAL_SECONDS="0")
    keys.create_key()
    created = client.post(
        "/api/v1/api-keys",
        json={"name": "tax system", "scopes": ["ingest:write"]},
        headers=auth("provider-tax"),
    )
    assert created.status_code == 201, created.text
    row = {
        "统一社会信用代码": ENTERPRISE_CODE,
        "纳税人名称": NAME,
        "评价年度": YEAR,
        "纳税信用等级": GRADE,
        "评价日期": RATED_ON,
        "主管税务机关": TAX_OFFICE,
        "行政区划代码": "450103",
    }
    response = client.post(
        "/api/v1/ingest/records",
        params={"category": "tax_rating"},
        content=json.dumps([row], ensure_ascii=False),
        headers={
            "X-API-Key": created.json()["key"],
            "Idempotency-Key": "tax-2024",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] == 1
    session.expire_all()
    return session.scalars(select(CreditRecord).where(CreditRecord.category == "tax_rating")).one()


def test_an_anonymous_reader_cannot_recover_a_grade_from_the_public_leaves(
    client: TestClient, pushed: CreditRecord
) -> None:
    anonymous = TestClient(client.app)
    assert anonymous.get(f"{API}/checkpoint").status_code == 200  # sequences the new leaves
    page = anonymous.get(f"{API}/entries", params={"start": 0}).json()
    leaves = [base64.b64decode(entry["leaf"]) for entry in page["entries"]]
    assert leaves, "the record's leaf is public"
    # What the reader knows: the public facts and the layout of the category.
    shape = {
        "credit_code": ENTERPRISE_CODE,
        "enterprise_name": NAME,
        "region_code": "450103",
        "tax_office": TAX_OFFICE,
    }
    assert set(pushed.data) == set(shape) | {"grade", "year", "rated_on"}  # the layout is right
    guesses = _guesses(shape)
    assert hashlib.sha256(_canonical(pushed.data)).hexdigest() in guesses  # the truth is a guess
    recovered = [
        guesses[event["digest"]]
        for event in (entry["event"] for entry in page["entries"])
        if event and event.get("digest") in guesses
    ]
    assert recovered == [], f"recovered {recovered} from the public leaves"
    for leaf in leaves:
        for name in (ENTERPRISE_CODE, "tax", pushed.id, pushed.digest):
            assert name.encode() not in leaf, f"{name} is readable in a public leaf"
    # Looking up a guessed digest tells nothing either.
    truth = hashlib.sha256(_canonical(pushed.data)).hexdigest()
    assert anonymous.get(f"{API}/lookup", params={"digest": truth}).status_code == 404

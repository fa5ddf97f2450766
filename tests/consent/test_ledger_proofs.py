"""Whoever is shown a record in full can check it is in the public ledger; nobody else gets
what would let them test a guess of it. Parties find their own leaves with their keys."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from tests.conftest import XydEnv
from tests.consent.world import Auth, World, events, grant
from xinyidai.ledger import client as ledger_client
from xinyidai.ledger import keys, tree
from xinyidai.ledger import service as ledger_service
from xinyidai.records import service as records_service
from xinyidai.records.models import CreditRecord


@pytest.fixture
def logged(world: World, session: Session, xyd_env: XydEnv) -> World:
    """The world's records in the ledger, sequenced under a signed checkpoint."""
    xyd_env(XYD_LEDGER_CHECKPOINT_INTERVAL_SECONDS="0")
    keys.create_key()
    ledger_service.refresh(session, force=True)
    session.commit()
    return world


def _records(
    client: TestClient, headers: dict[str, str], category: str, **params: Any
) -> list[dict[str, Any]]:
    response = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/records",
        params={"category": category, **params},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return [record for group in response.json() for record in group["records"]]


def test_a_bank_shown_a_record_in_full_checks_its_inclusion(
    client: TestClient, auth: Auth, logged: World, session: Session
) -> None:
    letter = grant(session, logged, categories=["tax_rating"], view="full")
    (record,) = _records(client, auth("bank"), "tax_rating", letter=letter.public_id)
    proof = record["ledger"]
    assert proof["format"] == 2
    assert len(bytes.fromhex(proof["salt"])) == 16
    # The bank recomputes the commitment from what it was shown, then checks the proof
    # against the log's signed checkpoint over the public API.
    commitment = records_service.shown_commitment(credit_code=ENTERPRISE_CODE, record=record)
    assert commitment == proof["commitment"]
    anonymous = TestClient(client.app)
    found = ledger_client.check_inclusion(anonymous, digest=commitment, index=proof["index"])
    assert found.index == proof["index"]
    # Another grade, with the same salt, is not what the ledger holds.
    forged = record | {"data": record["data"] | {"grade": "D"}}
    other = records_service.shown_commitment(credit_code=ENTERPRISE_CODE, record=forged)
    with pytest.raises(tree.ProofError):
        ledger_client.check_inclusion(anonymous, digest=other, index=proof["index"])


def test_the_enterprise_checks_every_version_of_its_own_records(
    client: TestClient, auth: Auth, logged: World, session: Session
) -> None:
    from tests.consent.world import push

    push(
        session,
        "tax",
        "tax_rating",
        [
            {
                "credit_code": ENTERPRISE_CODE,
                "enterprise_name": "南宁示范科技有限公司",
                "year": 2025,
                "grade": "B",
                "rated_on": "2026-04-01",
                "region_code": "450103",
            }
        ],
    )
    ledger_service.refresh(session, force=True)
    session.commit()
    (record,) = _records(client, auth("enterprise"), "tax_rating", history=True)
    versions = [record, *({**v, "id": record["id"]} for v in record["history"][1:])]
    assert [v["version"] for v in versions] == [2, 1]
    anonymous = TestClient(client.app)
    for version in versions:
        commitment = records_service.shown_commitment(credit_code=ENTERPRISE_CODE, record=version)
        ledger_client.check_inclusion(
            anonymous, digest=commitment, index=version["ledger"]["index"]
        )


def test_a_record_shown_masked_or_refused_comes_with_no_salt(
    client: TestClient, auth: Auth, logged: World, session: Session
) -> None:
    # Refused: nothing entitles the bank to the grade.
    refused = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/records",
        params={"category": "tax_rating"},
        headers=auth("bank"),
    )
    assert refused.status_code == 403
    assert "salt" not in refused.text
    # Masked: a letter for a desensitized view of the registration hides the phone number
    # and the legal representative; their salt would let the bank test guesses of them.
    letter = grant(session, logged, categories=["registration"], view="desensitized")
    (record,) = _records(client, auth("bank"), "registration", letter=letter.public_id)
    stored = session.scalars(
        select(CreditRecord).where(
            CreditRecord.category == "registration", CreditRecord.subject_code == ENTERPRISE_CODE
        )
    ).one()
    assert record["data"] != stored.data
    assert record["ledger"] is None
    report = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/report",
        params={"letter": letter.public_id},
        headers=auth("bank"),
    ).json()
    sections = {section["category"]: section for section in report["sections"]}
    assert sections["registration"]["records"]
    assert all(r["ledger"] is None for r in sections["registration"]["records"])
    # Public records in the same report are shown in full, to anyone: they come with theirs.
    shown = [r for s in report["sections"] if s["level"] == "public" for r in s["records"]]
    assert shown, [(s["category"], s["level"]) for s in report["sections"]]
    assert all(r["ledger"] is not None for r in shown if r["data"] == _stored(session, r["id"]))


def _stored(session: Session, record_id: str) -> dict[str, Any]:
    return session.scalars(select(CreditRecord.data).where(CreditRecord.id == record_id)).one()


def test_parties_find_their_own_leaves_and_no_one_else_s(
    client: TestClient, auth: Auth, logged: World, session: Session
) -> None:
    anonymous = TestClient(client.app)
    mine = client.get("/api/v1/me/ledger-key", headers=auth("enterprise")).json()
    assert (mine["role"], mine["label"]) == ("subject", ENTERPRISE_CODE)
    found = ledger_client.find_tagged(
        anonymous, role="subject", keys=[bytes.fromhex(k["key"]) for k in mine["keys"]]
    )
    ours = session.scalars(
        select(CreditRecord).where(CreditRecord.subject_code == ENTERPRISE_CODE)
    ).all()
    assert len(found) == len(ours)  # one leaf per stored version, and only those
    expected = {
        ledger_service.find_event(
            session,
            kind="record.version",
            ref=f"{r.id}:{r.version}",
            digest=records_service.leaf_digest(
                record_id=r.id,
                version=r.version,
                subject_code=r.subject_code,
                provider=r.provider,
                digest=r.digest,
                salt=r.salt,
            ),
        )
        for r in ours
    }
    assert set(found) == expected
    tax = client.get("/api/v1/me/ledger-key", headers=auth("provider-tax")).json()
    assert (tax["role"], tax["label"]) == ("actor", "provider:tax")
    sent = ledger_client.find_tagged(
        anonymous, role="actor", keys=[bytes.fromhex(k["key"]) for k in tax["keys"]]
    )
    by_tax = session.scalars(select(CreditRecord).where(CreditRecord.provider == "tax")).all()
    assert len(sent) == len(by_tax) > 0
    assert client.get("/api/v1/me/ledger-key", headers=auth("bank")).status_code == 403
    assert anonymous.get("/api/v1/me/ledger-key").status_code == 401


def test_an_auditor_finds_any_party_s_leaves_and_the_search_is_logged(
    client: TestClient, auth: Auth, logged: World, session: Session
) -> None:
    url = "/api/v1/audit/ledger-leaves"
    found = client.get(url, params={"subject": OTHER_CODE}, headers=auth("auditor")).json()
    other = session.scalars(select(CreditRecord).where(CreditRecord.subject_code == OTHER_CODE))
    assert len(found["indexes"]) == len(other.all()) > 0
    assert found["next"] == found["tree_size"]
    by_dept = client.get(url, params={"department": "hrss"}, headers=auth("auditor")).json()
    assert len(by_dept["indexes"]) == 2  # one social insurance record of each enterprise
    logged_searches = events(session, channel="api:ledger.leaves")
    assert [e.subject for e in logged_searches] == [OTHER_CODE, "hrss"]
    assert {e.organization_kind for e in logged_searches} == {"auditor"}
    for username in ("bank", "enterprise", "provider-tax"):
        response = client.get(url, params={"subject": OTHER_CODE}, headers=auth(username))
        assert response.status_code == 403
    bad = client.get(url, params={"subject": "nope"}, headers=auth("auditor"))
    assert (bad.status_code, bad.json()["error"]["field"]) == (422, "subject")

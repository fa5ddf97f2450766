"""Credit repair through the real app: the conditions per category, the operator's (and the
source department's) review, and on approval a record kept but no longer disclosed in any
view, export, rating or product check; the 5-year rule and each category's disclosure
period on every view, with a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from tests.consent.world import World, day, push
from tests.rights.conftest import PDF, record_of
from tests.risk.conftest import alerts_of, lend
from xinyidai.core import clock
from xinyidai.records import service as records_service
from xinyidai.records.models import CreditRecord
from xinyidai.rights.models import Document, OutboxEntry, Repair
from xinyidai.rights.service import outbox, repairs
from xinyidai.risk.models import AlertKind
from xinyidai.scoring import features

Auth = Callable[[str], dict[str, str]]
BASE = {"credit_code": ENTERPRISE_CODE, "enterprise_name": "南宁示范科技有限公司"}


def _apply(
    client: TestClient,
    headers: dict[str, str],
    record_id: str,
    *,
    signed: bool = True,
    files: int = 1,
    expect: int = 201,
) -> dict:
    answer = client.post(
        "/api/v1/rights/repairs",
        data={
            "record_id": record_id,
            "statement": "罚款已缴清，已完成整改",
            "commitment_signed": "true" if signed else "false",
        },
        files=[("files", (f"证明{i}.pdf", PDF, "application/pdf")) for i in range(files)],
        headers=headers,
    )
    assert answer.status_code == expect, answer.text
    return dict(answer.json())


def _move(client: TestClient, headers: dict[str, str], rid: str, name: str, **body: object) -> dict:
    answer = client.post(
        f"/api/v1/rights/repairs/{rid}/moves", json={"move": name, **body}, headers=headers
    )
    return {"status": answer.status_code, **answer.json()}


def _penalties(client: TestClient, auth: Auth) -> list[dict]:
    report = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/profile", headers=auth("enterprise")
    ).json()["report"]
    sections = {s["category"]: s for s in report["sections"]}
    return sections["admin_penalty"]["records"] if "admin_penalty" in sections else []


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_approved_repair_hides_the_record_everywhere_but_keeps_it(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    penalty = record_of(session, "admin_penalty")
    assert [r["id"] for r in _penalties(client, auth)] == [penalty.id]
    applied = _apply(client, auth("enterprise"), penalty.id)
    assert applied["state"] == "submitted"
    assert applied["department_review"] is False
    decided = _move(client, auth("operator"), applied["id"], "approve", reason="已履行，公示期满")
    assert decided["status"] == 200, decided
    assert decided["state"] == "approved"

    # no longer disclosed: the profile, the report, the CSV export, the rating's inputs
    assert _penalties(client, auth) == []
    csv = client.get(
        f"/api/v1/enterprises/{ENTERPRISE_CODE}/records",
        params={"format": "csv"},
        headers=auth("enterprise"),
    ).text
    assert penalty.id not in csv
    session.expire_all()
    assert not [
        d
        for d in records_service.current_data(
            session, categories=["admin_penalty"], subject_codes=[ENTERPRISE_CODE]
        )
    ]
    frames = records_service.category_frames(
        session, fields={"admin_penalty": ["fine_amount"]}, subject_codes=[ENTERPRISE_CODE]
    )
    assert frames["admin_penalty"].height == 0
    assert features.compute(session, on=clock.today(), credit_codes=[ENTERPRISE_CODE]).height == 1
    # kept for the operator's duty
    kept = records_service.records_of(
        session, subject_code=ENTERPRISE_CODE, categories=["admin_penalty"], include_expired=True
    )
    assert [r.id for r in kept[0].records] == [penalty.id]
    # the other enterprise's penalty is untouched
    theirs = records_service.records_of(
        session, subject_code=OTHER_CODE, categories=["admin_penalty"]
    )
    assert len(theirs[0].records) == 1
    (entry,) = [e for e in outbox.entries_after(session, after=0) if e.kind == "repair"]
    assert entry.payload["record_id"] == penalty.id
    assert entry.subject == ENTERPRISE_CODE


def test_department_reviews_where_the_category_says_so(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    push(
        session,
        "market",
        "abnormal_operation",
        [BASE | {"reason": "未按时公示年报", "listed_on": day(30), "region_code": "450103"}],
    )
    session.commit()
    listing = record_of(session, "abnormal_operation")
    applied = _apply(client, auth("enterprise"), listing.id)
    assert applied["department_review"] is True
    early = _move(client, auth("operator"), applied["id"], "approve", reason="x")
    assert early["status"] == 409
    assert early["error"]["field"] == "state"
    assert _move(client, auth("operator"), applied["id"], "refer")["state"] == "department_review"
    # a department that is not the source: refused, naming the field, nothing changed
    other = _move(client, auth("provider-tax"), applied["id"], "concur")
    assert other["status"] == 404
    assert other["error"]["field"] == "repair_id"
    assert repairs.get(session, repair_id=applied["id"]).state == "department_review"  # type: ignore[union-attr]
    assert _move(client, auth("provider-market"), applied["id"], "concur")["state"] == "reviewed"
    done = _move(client, auth("operator"), applied["id"], "approve", reason="已移出经营异常名录")
    assert done["state"] == "approved"
    assert [h["transition"] for h in done["history"]] == ["apply", "refer", "concur", "approve"]


def test_repair_before_its_minimum_period_is_refused(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    push(
        session,
        "credit",
        "admin_penalty",
        [
            BASE
            | {
                "decision_number": "南青市监罚〔2026〕99号",
                "fine_amount": "50000",
                "severity": "严重",
                "decided_on": day(200),
                "region_code": "450103",
            }
        ],
    )
    session.commit()
    serious = next(
        r
        for r in session.scalars(
            select(CreditRecord).where(
                CreditRecord.category == "admin_penalty",
                CreditRecord.subject_code == ENTERPRISE_CODE,
            )
        )
        if r.data.get("severity") == "严重"
    )
    answer = _apply(client, auth("enterprise"), serious.id, expect=422)
    assert answer["error"]["field"] == "record_id"
    assert (clock.today() + timedelta(days=165)).isoformat() in answer["error"]["message"]
    # without the commitment, or without the documents: refused, naming the field
    ordinary = record_of(session, "admin_penalty")
    assert (
        _apply(client, auth("enterprise"), ordinary.id, signed=False, expect=422)["error"]["field"]
        == "commitment_signed"
    )
    assert (
        _apply(client, auth("enterprise"), ordinary.id, files=0, expect=422)["error"]["field"]
        == "files"
    )
    # someone else's record: not found
    theirs = record_of(session, "admin_penalty", OTHER_CODE)
    assert (
        _apply(client, auth("enterprise"), theirs.id, expect=404)["error"]["field"] == "record_id"
    )
    assert _count(session, Repair) == 0
    assert _count(session, Document) == 0
    assert _count(session, OutboxEntry) == 0
    # a year after the serious penalty it may be repaired
    later = datetime.combine(clock.today() + timedelta(days=166), time(4), tzinfo=UTC)
    with clock.frozen_at(later):
        applied = _apply(client, auth("enterprise"), serious.id)
    assert applied["eligible_from"] == (clock.today() + timedelta(days=165)).isoformat()


def test_disclosure_periods_apply_on_every_view_with_a_fixed_clock(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    """A penalty is shown for its category's disclosure period (3 years in the shipped
    catalogue), a court enforcement for 5 years, then neither is shown nor used."""
    push(
        session,
        "court",
        "court_enforcement",
        [
            BASE
            | {
                "case_number": "(2021)桂0103执1号",
                "amount": "100000",
                "filed_on": "2021-06-01",
                "region_code": "450103",
            }
        ],
    )
    session.commit()
    penalty = record_of(session, "admin_penalty")
    assert penalty.event_on is not None
    cases = [
        ("admin_penalty", penalty.event_on, 1095),
        ("court_enforcement", datetime(2021, 6, 1).date(), 1826),
    ]
    for category, event_on, days in cases:
        for offset, shown in ((days, True), (days + 1, False)):
            moment = datetime.combine(event_on + timedelta(days=offset), time(4), tzinfo=UTC)
            with clock.frozen_at(moment):
                session.expire_all()
                groups = records_service.records_of(
                    session, subject_code=ENTERPRISE_CODE, categories=[category]
                )
                visible = bool(groups and groups[0].records)
                used = bool(
                    list(
                        records_service.current_data(
                            session, categories=[category], subject_codes=[ENTERPRISE_CODE]
                        )
                    )
                )
            assert (visible, used) == (shown, shown), (category, offset)


def test_a_repair_tells_the_lenders_watching_the_enterprise(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    """A lender with a live loan to the enterprise hears of the repair: an alert naming the
    record, never its content (the record is no longer disclosed), once per loan."""
    loan = lend(client, auth)
    penalty = record_of(session, "admin_penalty")
    applied = _apply(client, auth("enterprise"), penalty.id)
    assert (
        _move(client, auth("operator"), applied["id"], "approve", reason="已履行")["status"] == 200
    )
    (alert,) = alerts_of(session, kind=AlertKind.RECORD_REPAIRED)
    assert (alert.loan_id, alert.category, alert.severity) == (loan["id"], "admin_penalty", "low")
    read = client.get(f"/api/v1/risk/alerts/{alert.public_id}", headers=auth("bank")).json()
    assert read["detail"] == {"record_id": penalty.id, "category": "admin_penalty"}
    assert "fine_amount" not in str(read)
    page = client.get("/api/v1/risk/alerts?kind=record_repaired", headers=auth("bank")).json()
    assert [a["id"] for a in page["items"]] == [alert.public_id]

"""Each kind of event raises its alert, for the loans that watch the enterprise concerned:
tax grade falling, social insurance in arrears, a correction of a relied-on fact,
cross-default, a rating falling, a guarantee partner's record or default."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import push
from tests.market.conftest import Auth, principal_of
from tests.risk.conftest import BASE, alerts_of, later, lend, loan_row, penalty, watches_of
from tests.worlds import demo_enterprise_in_a_circle
from xinyidai.core import clock
from xinyidai.core.db import session_scope
from xinyidai.core.ids import new_id
from xinyidai.market.models import Loan, LoanState
from xinyidai.market.service import loans as loans_service
from xinyidai.risk.models import AlertKind, AlertSeverity, WatchRelation
from xinyidai.risk.service import alerts
from xinyidai.scoring.models import CreditRating

TODAY = clock.today().isoformat()


def test_a_falling_tax_grade_raises_a_high_alert(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    loan = lend(client, auth)
    push(
        session,
        "tax",
        "tax_rating",
        [BASE | {"year": 2025, "grade": "C", "rated_on": TODAY, "region_code": "450103"}],
    )
    session.commit()
    [alert] = alerts_of(session, kind=AlertKind.TAX_GRADE_FALL)
    assert alert.loan_id == loan["id"]
    assert alert.severity == AlertSeverity.HIGH
    assert [r["version"] for r in alert.evidence["records"]] == [1, 2]
    assert alerts_of(session, kind=AlertKind.RECORD_CORRECTED) == []


def test_a_new_years_lower_grade_is_a_fall_too(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    lend(client, auth)
    push(
        session,
        "tax",
        "tax_rating",
        [BASE | {"year": 2026, "grade": "B", "rated_on": TODAY, "region_code": "450103"}],
    )
    session.commit()
    [alert] = alerts_of(session, kind=AlertKind.TAX_GRADE_FALL)
    assert alert.severity == AlertSeverity.MEDIUM
    # A better grade the year after raises nothing.
    push(
        session,
        "tax",
        "tax_rating",
        [BASE | {"year": 2027, "grade": "A", "rated_on": TODAY, "region_code": "450103"}],
    )
    session.commit()
    assert len(alerts_of(session, kind=AlertKind.TAX_GRADE_FALL)) == 1


def test_social_insurance_falling_into_arrears(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    lend(client, auth)
    row = BASE | {"year": 2025, "due_amount": "80000", "as_of": TODAY, "region_code": "450103"}
    push(session, "hrss", "social_insurance", [row | {"arrears_amount": "12000"}])
    session.commit()
    [alert] = alerts_of(session)
    assert (alert.kind, alert.category) == (AlertKind.NEGATIVE_RECORD, "social_insurance")


def test_a_correction_of_a_fact_relied_on(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    lend(client, auth)
    push(
        session,
        "market",
        "registration",
        [
            BASE
            | {
                "legal_representative": "陆明",
                "established_on": "2015-03-01",
                "region_code": "450103",
                "address": "南宁市青秀区民族大道1号",
                "phone": "13877001234",
                "registered_capital": "500000",
            }
        ],
    )
    session.commit()
    [alert] = alerts_of(session)
    assert (alert.kind, alert.category) == (AlertKind.RECORD_CORRECTED, "registration")
    assert [r["version"] for r in alert.evidence["records"]] == [1, 2]


def test_a_record_first_stored_after_the_loan_is_no_correction(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    lend(client, auth)
    penalty(session)
    penalty_fixed = "南青市监罚〔2026〕88号"
    push(
        session,
        "credit",
        "admin_penalty",
        [
            BASE
            | {
                "decision_number": penalty_fixed,
                "fine_amount": "5000",
                "decided_on": clock.today().isoformat(),
                "region_code": "450103",
            }
        ],
    )
    session.commit()
    assert [a.kind for a in alerts_of(session)] == [AlertKind.NEGATIVE_RECORD]


def test_cross_default_reaches_the_other_lender(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    mine = lend(client, auth, "bank")
    theirs = lend(client, auth, "bank2")
    assert alerts_of(session) == []
    with clock.frozen_at(later(45)):
        loans_service.refresh(session, loan=loan_row(session, theirs["id"]))
        session.commit()
    [overdue] = alerts_of(session, kind=AlertKind.CROSS_DEFAULT, loan_id=mine["id"])
    assert overdue.severity == AlertSeverity.HIGH
    assert overdue.evidence["loans"] == [theirs["id"]]
    assert [a.loan_id for a in alerts_of(session, kind=AlertKind.CROSS_DEFAULT)] == [mine["id"]]
    with clock.frozen_at(later(46)):
        loans_service.refresh(session, loan=loan_row(session, mine["id"]))
        loans_service.declare(
            session,
            principal=principal_of(session, "bank2"),
            loan_id=theirs["id"],
            transition="default",
            reason="逾期45天",
        )
        session.commit()
    defaulted = [a for a in alerts_of(session, loan_id=mine["id"]) if a.key.endswith(":defaulted")]
    assert [a.severity for a in defaulted] == [AlertSeverity.CRITICAL]
    for alert in alerts_of(session, kind=AlertKind.CROSS_DEFAULT):
        assert alert.evidence["loans"] != [alert.loan_id]


def test_a_repaid_loan_watches_no_more(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    loan = lend(client, auth)
    assert watches_of(session, loan["id"])
    paid = client.post(
        f"/api/v1/loans/{loan['id']}/repayments",
        json={"amount": loan["schedule"][0]["principal"]},
        headers=auth("bank"),
    )
    assert paid.status_code == 201
    payoff = client.get(f"/api/v1/loans/{loan['id']}", headers=auth("bank")).json()
    rest = sum(
        float(i["principal"])
        - float(i["paid_principal"])
        + float(i["interest"])
        - float(i["paid_interest"])
        for i in payoff["schedule"]
    )
    done = client.post(
        f"/api/v1/loans/{loan['id']}/repayments",
        json={"amount": f"{rest:.2f}"},
        headers=auth("bank"),
    )
    assert done.status_code == 201, done.text
    assert done.json()["state"] == "repaid"
    assert watches_of(session, loan["id"]) == []
    penalty(session)
    assert alerts_of(session) == []


def _rating(session: Session, grade: str, at_days: int) -> None:
    session.add(
        CreditRating(
            credit_code=ENTERPRISE_CODE,
            score=600.0,
            grade=grade,
            probability=0.05,
            reasons=[],
            model_version="test",
            as_of=date.today(),
            trigger="run",
            run_id=None,
            rated_at=clock.now() + timedelta(days=at_days),
        )
    )
    session.commit()


def test_a_rating_falling_two_grades_then_into_ccc(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    _rating(session, "A", -10)
    lend(client, auth)
    session.query(CreditRating).filter(CreditRating.rated_at > later(-1)).delete()
    session.commit()
    _rating(session, "BBB", 1)
    with session_scope() as other:
        assert alerts.scan(other, codes=[ENTERPRISE_CODE]).raised == []  # one grade: no alert
    _rating(session, "BB", 2)
    with session_scope() as other:
        alerts.scan(other, codes=[ENTERPRISE_CODE])
    _rating(session, "CCC", 3)
    with session_scope() as other:
        alerts.scan(other, codes=[ENTERPRISE_CODE])
    raised = alerts_of(session, kind=AlertKind.RATING_FALL)
    assert [(a.evidence["from_grade"], a.evidence["to_grade"], a.severity) for a in raised] == [
        ("A", "BB", AlertSeverity.MEDIUM),
        ("A", "CCC", AlertSeverity.HIGH),
    ]


def test_a_guarantee_partner_is_watched_and_its_default_raised(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    partner = demo_enterprise_in_a_circle(session)
    session.commit()
    loan = lend(client, auth)
    relations = {w.credit_code: w.relation for w in watches_of(session, loan["id"])}
    assert relations == {ENTERPRISE_CODE: WatchRelation.BORROWER, partner: WatchRelation.GUARANTEE}
    assert alerts_of(session) == []  # the partner's listing predates the loan
    penalty(session, code=partner)
    [alert] = alerts_of(session)
    assert (alert.credit_code, alert.relation) == (partner, WatchRelation.GUARANTEE)
    assert alert.severity == AlertSeverity.LOW  # an associate's penalty weighs less
    # The partner defaults on a loan of its own on the platform.
    now = clock.now()
    session.add(
        Loan(
            public_id=new_id("loan"),
            contract_number="XYD-TEST-PARTNER",
            application_id=new_id("app"),
            product_id="prd_test",
            product_type="credit",
            institution_id="org_other",
            institution_name="其他银行",
            credit_code=partner,
            enterprise_name="伙伴",
            region_code="450100",
            principal=100000,
            rate=4,
            term_months=6,
            repayment_method="equal_principal",
            start_on=now.date(),
            maturity_on=now.date(),
            balance=100000,
            interest_paid=0,
            state=LoanState.DEFAULTED,
            state_changed_at=now,
            state_changed_by="test",
        )
    )
    session.commit()
    with session_scope() as other:
        alerts.scan(other, codes=[partner])
    [circle] = alerts_of(session, kind=AlertKind.CIRCLE_DEFAULT)
    assert circle.loan_id == loan["id"]
    assert circle.severity == AlertSeverity.HIGH


def test_associates_are_not_watched_when_the_setting_says_so(
    client: TestClient, auth: Auth, signed: None, session: Session, xyd_env: object
) -> None:
    xyd_env(XYD_RISK_WATCH_ASSOCIATES="false")  # type: ignore[operator]
    demo_enterprise_in_a_circle(session)
    session.commit()
    loan = lend(client, auth)
    assert [w.relation for w in watches_of(session, loan["id"])] == [WatchRelation.BORROWER]

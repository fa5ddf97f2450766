"""The demo's market: four institutions publish products of every type and zone, six
enterprises post needs and apply, and applications and loans stand in every state, so a
new user sees the whole story. Idempotent: nothing is added when products exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.consent import service as consent_service
from xinyidai.core import clock
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind, OrgState
from xinyidai.iam.schemas import Principal
from xinyidai.market.models import ApplicationState, LoanState, Product
from xinyidai.market.schemas import ApplicationIn, NeedIn, ProductIn, RulesIn
from xinyidai.market.service import applications, loans, matching, products, rules
from xinyidai.registry import service as registry_service

PASSWORD = "demo-password"
INSTITUTIONS = [
    ("bank", None, None),
    ("bank-rural", "广西农村信用社联合社", "bank"),
    ("guarantor", "南宁市融资担保有限公司", "guarantor"),
    ("insurer", "人保财险南宁市分公司", "insurer"),
]
# (institution, name, type, amount range, term range, rate range, methods, zones, collateral)
PRODUCTS: list[
    tuple[
        str,
        str,
        str,
        tuple[str, str],
        tuple[int, int],
        tuple[str, str],
        list[str],
        list[str],
        list[str],
    ]
] = [
    (
        "bank",
        "信易贷·纯信用快贷",
        "credit",
        ("100000", "3000000"),
        (6, 36),
        ("3.4500", "6.0000"),
        ["equal_instalment", "interest_only"],
        ["fast"],
        [],
    ),
    (
        "bank",
        "银税贷",
        "tax",
        ("100000", "2000000"),
        (6, 24),
        ("3.6500", "5.5000"),
        ["equal_principal", "interest_only"],
        ["fast"],
        [],
    ),
    (
        "bank",
        "政采贷",
        "procurement",
        ("200000", "5000000"),
        (3, 12),
        ("3.8000", "5.2000"),
        ["interest_only"],
        [],
        ["procurement_contract"],
    ),
    (
        "bank",
        "科技贷",
        "tech",
        ("500000", "10000000"),
        (12, 36),
        ("3.3000", "4.8000"),
        ["equal_instalment"],
        ["regional"],
        [],
    ),
    (
        "bank-rural",
        "订单贷",
        "supply_order",
        ("100000", "3000000"),
        (3, 12),
        ("4.2000", "6.5000"),
        ["interest_only"],
        ["rural"],
        ["orders"],
    ),
    (
        "bank-rural",
        "仓单贷",
        "supply_warehouse",
        ("200000", "5000000"),
        (3, 12),
        ("4.0000", "6.0000"),
        ["interest_only"],
        ["rural", "regional"],
        ["warehouse_receipt"],
    ),
    (
        "bank-rural",
        "存货贷",
        "supply_inventory",
        ("100000", "2000000"),
        (6, 12),
        ("4.5000", "6.8000"),
        ["equal_principal"],
        ["relief"],
        ["inventory"],
    ),
    (
        "bank-rural",
        "应收账款贷",
        "supply_receivable",
        ("100000", "5000000"),
        (3, 12),
        ("3.9000", "5.8000"),
        ["interest_only", "equal_principal"],
        ["green"],
        ["receivables"],
    ),
    (
        "insurer",
        "保单贷",
        "policy",
        ("50000", "1000000"),
        (6, 24),
        ("4.8000", "7.2000"),
        ["equal_instalment"],
        ["relief"],
        ["policy"],
    ),
    (
        "bank",
        "知识产权质押贷",
        "ip_pledge",
        ("300000", "5000000"),
        (12, 36),
        ("3.8000", "5.6000"),
        ["equal_principal"],
        ["green", "regional"],
        ["ip"],
    ),
    (
        "guarantor",
        "小微融资担保",
        "guarantee",
        ("100000", "3000000"),
        (6, 24),
        ("1.0000", "2.0000"),
        ["equal_instalment"],
        ["relief", "rural"],
        [],
    ),
    (
        "bank-rural",
        "首贷通·首次贷款",
        "credit",
        ("50000", "1000000"),
        (6, 24),
        ("3.9000", "5.8000"),
        ["equal_instalment"],
        ["first_loan"],
        [],
    ),
    (
        "bank-rural",
        "续贷通·无还本续贷",
        "credit",
        ("100000", "3000000"),
        (6, 36),
        ("3.7000", "5.5000"),
        ["interest_only"],
        ["renewal"],
        [],
    ),
]


@dataclass(frozen=True)
class DemoMarket:
    products: int
    applications: int
    loans: int
    created: bool


def _user_principal(session: Session, username: str) -> Principal:
    return iam_service.principal_for_user(
        iam_service.get_user_or_raise(session, username=username), via="token"
    )


def _demo_admin(session: Session, username: str, *, kind: OrgKind, name: str, **extra: Any) -> None:
    """Create a demo organization (an enterprise's existing one is taken as it is) and its
    admin ``username``."""
    organization = None
    if kind == OrgKind.ENTERPRISE:
        organization = iam_service.get_enterprise_organization(
            session, credit_code=extra["credit_code"]
        )
    if organization is None:
        organization = iam_service.create_organization(
            session,
            kind=kind,
            name=name,
            actor="system:demo",
            state=OrgState.ACTIVE,
            is_demo=True,
            **extra,
        )
        if kind == OrgKind.INSTITUTION:
            iam_service.demo_institution_made(session, organization)
    iam_service.create_user(
        session,
        organization=organization,
        username=username,
        display_name=username,
        password=PASSWORD,
        actor="system:demo",
        role="admin",
        is_demo=True,
    )
    session.flush()


def _institution(session: Session, username: str, name: str | None, kind: str | None) -> Principal:
    if iam_service.get_user(session, username=username) is None and name and kind:
        _demo_admin(
            session,
            username,
            kind=OrgKind.INSTITUTION,
            name=name,
            institution_type=kind,
            licence_number=f"DEMO-{username.upper()}",
        )
    return _user_principal(session, username)


def _enterprise(session: Session, number: int, credit_code: str) -> Principal:
    username = "enterprise" if number == 1 else f"enterprise{number}"
    if iam_service.get_user(session, username=username) is None:
        subject = registry_service.get_by_code_or_raise(session, credit_code=credit_code)
        _demo_admin(
            session, username, kind=OrgKind.ENTERPRISE, name=subject.name, credit_code=credit_code
        )
    principal = _user_principal(session, username)
    if not consent_service.has_signed(session, credit_code=principal.credit_code or ""):
        consent_service.sign(
            session,
            principal=principal,
            version=consent_service.latest_text_or_raise(session).version,
        )
    return principal


def _apply(session: Session, enterprise: Principal, product: Product, **terms: Any) -> Any:
    amount = Decimal(terms.get("amount", product.amount_min * 2))
    data = ApplicationIn(
        product_id=product.public_id,
        amount=min(amount, product.amount_max),
        term_months=terms.get("term", product.term_min),
        repayment_method=product.repayment_methods[0],
        purpose=terms.get("purpose", "补充流动资金"),
        authorize=True,
    )
    application, _ = rules.submit_and_decide(session, principal=enterprise, data=data)
    return application


NEED_PURPOSES = ["采购原材料", "支付货款", "扩大生产", "研发投入", "春耕备货", "设备更新"]
# The applications left in each manual state: (enterprise, product, state).
APPLICATION_PLAN = [
    (0, "银税贷", ApplicationState.SUBMITTED),
    (1, "政采贷", ApplicationState.ACCEPTED),
    (2, "科技贷", ApplicationState.INFO_REQUESTED),
    (3, "知识产权质押贷", ApplicationState.REJECTED),
    (4, "保单贷", ApplicationState.WITHDRAWN),
]
# The party moves that take a submitted application to its state: (who, transition, note).
APPLICATION_MOVES: dict[str, list[tuple[str, str, str | None]]] = {
    ApplicationState.ACCEPTED: [("lender", "accept", None)],
    ApplicationState.INFO_REQUESTED: [
        ("lender", "accept", None),
        ("lender", "request_info", "请补充近六个月的银行流水"),
    ],
    ApplicationState.WITHDRAWN: [("enterprise", "withdraw", None)],
}
# The loans: current, overdue, repaid, defaulted, written off (product, enterprise, days ago).
LOAN_PLAN = [
    ("订单贷", 1, 0, LoanState.CURRENT),
    ("仓单贷", 2, 75, LoanState.OVERDUE),
    ("应收账款贷", 3, 100, LoanState.REPAID),
    ("订单贷", 4, 130, LoanState.DEFAULTED),
    ("仓单贷", 5, 200, LoanState.WRITTEN_OFF),
]
# The declarations that take a running loan to its state: (transition, reason).
LOAN_DECLARATIONS: dict[str, list[tuple[str, str]]] = {
    LoanState.DEFAULTED: [("default", "逾期超过 90 天")],
    LoanState.WRITTEN_OFF: [("default", "逾期超过 90 天"), ("write_off", "经追偿无果，核销")],
}


def ensure_demo_market(session: Session, *, enterprise_codes: list[str]) -> DemoMarket:
    """Publish the demo market over the given enterprises (the demo enterprise first)."""
    existing = session.scalar(select(func.count()).select_from(Product)) or 0
    if existing:
        return DemoMarket(products=existing, applications=0, loans=0, created=False)
    lenders = {u: _institution(session, u, n, k) for u, n, k in INSTITUTIONS}
    first = registry_service.get_by_code_or_raise(session, credit_code=enterprise_codes[0])
    province = [f"{first.region_code[:2]}0000"] if first.region_code else []
    by_name = _publish_shelf(session, lenders, regions=province)
    _configure_rules(session, lenders["bank"], by_name["信易贷·纯信用快贷"])
    enterprises = [_enterprise(session, i + 1, code) for i, code in enumerate(enterprise_codes[:6])]
    _post_needs(session, enterprises)
    today = clock.today()
    made = _applications_in_every_state(session, enterprises, by_name, bank=lenders["bank"])
    loans_made = _loans_in_every_state(
        session, enterprises, by_name, lender=lenders["bank-rural"], today=today
    )
    session.flush()
    return DemoMarket(
        products=len(by_name), applications=made + loans_made, loans=loans_made, created=True
    )


def _publish_shelf(
    session: Session, lenders: dict[str, Principal], *, regions: list[str]
) -> dict[str, Product]:
    """Every product of ``PRODUCTS``, created and published by its institution, by name."""
    shelf: dict[str, Product] = {}
    for owner, name, kind, (low, high), (t1, t2), (r1, r2), methods, zones, collateral in PRODUCTS:
        product = products.create(
            session,
            principal=lenders[owner],
            data=ProductIn(
                name=name,
                product_type=kind,
                description=f"{lenders[owner].organization_name}面向小微企业的{name}",
                amount_min=Decimal(low),
                amount_max=Decimal(high),
                term_min=t1,
                term_max=t2,
                rate_min=Decimal(r1),
                rate_max=Decimal(r2),
                repayment_methods=methods,
                regions=regions,
                collateral=collateral,
                eligibility={"no_dishonest": True},
                documents=["营业执照", "近一年财务报表"],
                zones=zones,
            ),
        )
        products.move(session, principal=lenders[owner], product=product, transition="publish")
        shelf[name] = product
    return shelf


def _configure_rules(session: Session, bank: Principal, product: Product) -> None:
    """The automatic decision rules of the bank's pure-credit product, by credit grade."""
    rules.configure(
        session,
        principal=bank,
        product=product,
        data=RulesIn(
            min_grade="B",
            amount_caps={
                "AAA": Decimal("3000000"),
                "A": Decimal("1000000"),
                "B": Decimal("300000"),
            },
            rates={"AAA": Decimal("3.4500"), "A": Decimal("4.2000"), "B": Decimal("5.8000")},
        ),
    )


def _post_needs(session: Session, enterprises: list[Principal]) -> None:
    """One financing need per enterprise, of growing amounts."""
    for index, enterprise in enumerate(enterprises):
        matching.post_need(
            session,
            principal=enterprise,
            data=NeedIn(
                amount=Decimal(300000 + 100000 * index),
                term_months=12,
                purpose=NEED_PURPOSES[index],
                max_rate=Decimal("6.0000"),
                collateral=["orders", "receivables"] if index % 2 else [],
                urgency="urgent" if index % 3 == 0 else "normal",
            ),
        )


def _applications_in_every_state(
    session: Session,
    enterprises: list[Principal],
    by_name: dict[str, Product],
    *,
    bank: Principal,
) -> int:
    """An application decided by the rules, one left in each manual state, one expired;
    how many were made."""
    # the automatic decision (approved or rejected by the rules at once)
    _apply(session, enterprises[0], by_name["信易贷·纯信用快贷"], amount="500000", term=12)
    made = 1
    for who, name, state in APPLICATION_PLAN:
        enterprise = enterprises[who % len(enterprises)]
        application = _apply(session, enterprise, by_name[name])
        made += 1
        lender = bank if by_name[name].institution_id == bank.organization_public_id else None
        lender = lender or _user_principal(session, "insurer")
        parties = {"lender": lender, "enterprise": enterprise}
        for party, transition, note in APPLICATION_MOVES.get(state, []):
            applications.act(
                session,
                principal=parties[party],
                application_id=application.public_id,
                transition=transition,
                note=note,
            )
        if state == ApplicationState.REJECTED:
            applications.decide(
                session,
                principal=lender,
                application_id=application.public_id,
                outcome="reject",
                reason="经营年限不满足产品要求",
            )
    # an application nobody decided in time, expired by the clock
    with clock.frozen_at(clock.now() - timedelta(days=applications.EXPIRY_DAYS + 5)):
        _apply(session, enterprises[5 % len(enterprises)], by_name["存货贷"])
        made += 1
    applications.expire_due(session)
    return made


def _approve(session: Session, application: Any, lender: Principal) -> None:
    product = products.get_or_raise(session, product_id=application.product_id)
    applications.decide(
        session,
        principal=lender,
        application_id=application.public_id,
        outcome="approve",
        rate=product.rate_min,
        reason="资料齐全，同意授信",
    )


def _loans_in_every_state(
    session: Session,
    enterprises: list[Principal],
    by_name: dict[str, Product],
    *,
    lender: Principal,
    today: date,
) -> int:
    """A loan in every state of ``LOAN_PLAN``, each applied for, approved and disbursed
    ``days ago`` (before ``today``); how many."""
    for name, who, days_ago, loan_state in LOAN_PLAN:
        enterprise = enterprises[who % len(enterprises)]
        with clock.frozen_at(clock.now() - timedelta(days=days_ago)):
            application = _apply(session, enterprise, by_name[name])
            _approve(session, application, lender)
        loan = loans.disburse(
            session,
            principal=lender,
            application_id=application.public_id,
            start_on=today - timedelta(days=days_ago),
        )
        if loan_state == LoanState.REPAID:
            lines = loans.instalments_of(session, loan=loan)
            loans.repay(
                session,
                principal=lender,
                loan_id=loan.public_id,
                amount=loans.outstanding(lines),
                paid_on=today,
            )
        else:
            loans.refresh(session, loan=loan)
        for transition, reason in LOAN_DECLARATIONS.get(loan_state, []):
            loans.declare(
                session,
                principal=lender,
                loan_id=loan.public_id,
                transition=transition,
                reason=reason,
            )
    return len(LOAN_PLAN)

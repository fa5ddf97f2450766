"""Figures of the marketplace: needs, applications and decisions, loans, balances and
arrears.

Loans are counted on the day they start (the lender's date), repayments on the day they
were paid; decisions on the day they were made; moves into and out of arrears and default
on the day of the move (``core.transitions``). Balances and the loans live, overdue and
defaulted are stocks: each day's change is stored, a period reads their sum up to its end.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from xinyidai.core.i18n import N_
from xinyidai.core.transitions import Transition
from xinyidai.market.models import (
    Application,
    ApplicationState,
    Loan,
    LoanState,
    Need,
    Product,
    Repayment,
)
from xinyidai.registry.models import Enterprise
from xinyidai.stats.models import Dimension, FigureKind, Unit
from xinyidai.stats.sources.kit import (
    Cell,
    Figure,
    Source,
    as_date,
    bucket_name,
    china_day,
    days_within,
    division,
    within,
)

INDUSTRY = division(Enterprise.industry_code)  # grouped by division: few groups
NEED_INDUSTRY = division(Need.industry_code)

LOAN_KIND = "loan"  # the subject kind of a loan's moves (``market.service.loans.LOANS``)
DECIDED = (ApplicationState.APPROVED, ApplicationState.REJECTED)
ENDED = (LoanState.REPAID, LoanState.WRITTEN_OFF)
# Decision time's histogram bounds, in seconds: a second … a quarter; the median and p90
# read are the bound of the bucket that holds them.
DECISION_BOUNDS = (
    1,
    5,
    10,
    30,
    60,
    300,
    900,
    1800,
    3600,
    7200,
    14400,
    28800,
    86400,
    172800,
    259200,
    432000,
    604800,
    1209600,
    2592000,
    7776000,
    10**9,
)

REGIONAL = (Dimension.ALL, Dimension.PROVINCE, Dimension.CITY, Dimension.COUNTY, Dimension.INDUSTRY)
LENDING = (*REGIONAL, Dimension.INSTITUTION, Dimension.PRODUCT_TYPE)
PERCENT = Decimal(100)


def _flow(
    name: str,
    label: str,
    unit: Unit = Unit.COUNT,
    *,
    basis: str | None = None,
    dims: tuple[Dimension, ...] = LENDING,
    shown: bool = True,
) -> Figure:
    return Figure(name, label, FigureKind.FLOW, unit, dims, basis=basis or name, shown=shown)


FIGURES = (
    _flow("needs_posted", N_("Financing needs posted"), dims=REGIONAL),
    _flow("applications", N_("Applications")),
    _flow("decisions", N_("Applications decided")),
    _flow("approvals", N_("Applications approved"), basis="decisions"),
    Figure(
        "approval_rate",
        N_("Approval rate"),
        FigureKind.RATIO,
        Unit.PERCENT,
        LENDING,
        basis="decisions",
        numerator="approvals",
        denominator="decisions",
        scale=PERCENT,
    ),
    Figure(
        "decision_time_median",
        N_("Decision time, median"),
        FigureKind.QUANTILE,
        Unit.SECONDS,
        LENDING,
        basis="decisions",
        histogram="decision_time",
        quantile=Decimal("0.5"),
    ),
    Figure(
        "decision_time_p90",
        N_("Decision time, 90th percentile"),
        FigureKind.QUANTILE,
        Unit.SECONDS,
        LENDING,
        basis="decisions",
        histogram="decision_time",
        quantile=Decimal("0.9"),
    ),
    _flow("loans_granted", N_("Loans granted")),
    _flow("loans_amount", N_("Amount granted"), Unit.YUAN, basis="loans_granted"),
    _flow("credit_loans", N_("Credit loans (no collateral)")),
    _flow("credit_loans_amount", N_("Credit loans amount"), Unit.YUAN, basis="credit_loans"),
    Figure(
        "credit_loan_share",
        N_("Credit loans' share of the amount"),
        FigureKind.RATIO,
        Unit.PERCENT,
        LENDING,
        basis="loans_granted",
        numerator="credit_loans_amount",
        denominator="loans_amount",
        scale=PERCENT,
    ),
    _flow("first_loans", N_("First-time borrowers")),
    _flow("rate_amount", "rate × amount", Unit.YUAN, basis="loans_granted", shown=False),
    Figure(
        "average_rate",
        N_("Average rate (amount-weighted)"),
        FigureKind.RATIO,
        Unit.PERCENT,
        LENDING,
        basis="loans_granted",
        numerator="rate_amount",
        denominator="loans_amount",
    ),
    Figure(
        "balance",
        N_("Balance outstanding"),
        FigureKind.STOCK,
        Unit.YUAN,
        LENDING,
        basis="live_loans",
    ),
    Figure(
        "live_loans", N_("Loans live"), FigureKind.STOCK, Unit.COUNT, LENDING, basis="live_loans"
    ),
    Figure(
        "overdue_loans",
        N_("Loans overdue"),
        FigureKind.STOCK,
        Unit.COUNT,
        LENDING,
        basis="overdue_loans",
    ),
    Figure(
        "defaulted_loans",
        N_("Loans defaulted"),
        FigureKind.STOCK,
        Unit.COUNT,
        LENDING,
        basis="defaulted_loans",
    ),
    Figure(
        "overdue_rate",
        N_("Overdue rate"),
        FigureKind.RATIO,
        Unit.PERCENT,
        LENDING,
        basis="live_loans",
        numerator="overdue_loans",
        denominator="live_loans",
        scale=PERCENT,
    ),
    Figure(
        "default_rate",
        N_("Default rate"),
        FigureKind.RATIO,
        Unit.PERCENT,
        LENDING,
        basis="live_loans",
        numerator="defaulted_loans",
        denominator="live_loans",
        scale=PERCENT,
    ),
)


def decision_bucket(seconds: float) -> int:
    """The histogram bound a decision time falls under."""
    for bound in DECISION_BOUNDS:
        if seconds <= bound:
            return bound
    return DECISION_BOUNDS[-1]


def credit_products(session: Session) -> set[str]:
    """Products that ask for no collateral: their loans are credit loans."""
    rows = session.execute(select(Product.public_id, Product.collateral))
    return {public_id for public_id, collateral in rows if not collateral}


def _needs(session: Session, first: date | None, last: date | None) -> Iterator[Cell]:
    day = china_day(Need.created_at)
    stmt = (
        select(day, Need.region_code, NEED_INDUSTRY, func.count())
        .where(*within(Need.created_at, first, last))
        .group_by(day, Need.region_code, NEED_INDUSTRY)
    )
    for d, region, industry, n in session.execute(stmt):
        yield Cell("needs_posted", as_date(d), n, region=region, industry=industry)


def _applications(session: Session, first: date | None, last: date | None) -> Iterator[Cell]:
    dims = (
        Application.region_code,
        INDUSTRY,
        Application.institution_id,
        Product.product_type,
    )
    day = china_day(Application.submitted_at)
    submitted = (
        select(day, *dims, func.count())
        .select_from(Application)
        .outerjoin(Enterprise, Enterprise.credit_code == Application.credit_code)
        .outerjoin(Product, Product.public_id == Application.product_id)
        .where(*within(Application.submitted_at, first, last))
        .group_by(day, *dims)
    )
    for d, region, industry, institution, product_type, n in session.execute(submitted):
        yield Cell("applications", as_date(d), n, region, industry, institution, product_type)
    decided = (
        select(Application.decided_at, Application.submitted_at, Application.state, *dims)
        .select_from(Application)
        .outerjoin(Enterprise, Enterprise.credit_code == Application.credit_code)
        .outerjoin(Product, Product.public_id == Application.product_id)
        .where(Application.state.in_(DECIDED), Application.decided_at.is_not(None))
        .where(*within(Application.decided_at, first, last))
    )
    for (
        decided_at,
        submitted_at,
        state,
        region,
        industry,
        institution,
        product_type,
    ) in session.execute(decided):
        assert decided_at is not None  # the query asks for decided ones
        d = _china_day_of(decided_at)
        where = {"region": region, "industry": industry, "institution": institution}
        yield Cell("decisions", d, 1, product_type=product_type, **where)
        if state == ApplicationState.APPROVED:
            yield Cell("approvals", d, 1, product_type=product_type, **where)
        bucket = decision_bucket((decided_at - submitted_at).total_seconds())
        yield Cell(bucket_name("decision_time", bucket), d, 1, product_type=product_type, **where)


def _china_day_of(moment: datetime) -> date:
    from xinyidai.core import clock

    return clock.to_local(moment).date()


def _loans(session: Session, first: date | None, last: date | None) -> Iterator[Cell]:
    credit = credit_products(session)
    earlier = aliased(Loan)
    is_first = ~(
        select(earlier.id)
        .where(
            earlier.credit_code == Loan.credit_code,
            or_(
                earlier.start_on < Loan.start_on,
                and_(earlier.start_on == Loan.start_on, earlier.id < Loan.id),
            ),
        )
        .exists()
    )
    stmt = (
        select(
            Loan.start_on,
            Loan.principal,
            Loan.rate,
            Loan.product_id,
            is_first,
            Loan.region_code,
            INDUSTRY,
            Loan.institution_id,
            Loan.product_type,
        )
        .select_from(Loan)
        .outerjoin(Enterprise, Enterprise.credit_code == Loan.credit_code)
        .where(*days_within(Loan.start_on, first, last))
    )
    for start_on, principal, rate, product_id, first_loan, *where in session.execute(stmt):
        cell = dict(zip(("region", "industry", "institution", "product_type"), where, strict=True))
        yield Cell("loans_granted", start_on, 1, **cell)
        yield Cell("loans_amount", start_on, principal, **cell)
        yield Cell("rate_amount", start_on, principal * rate, **cell)
        yield Cell("balance", start_on, principal, **cell)
        yield Cell("live_loans", start_on, 1, **cell)
        if product_id in credit:
            yield Cell("credit_loans", start_on, 1, **cell)
            yield Cell("credit_loans_amount", start_on, principal, **cell)
        if first_loan:
            yield Cell("first_loans", start_on, 1, **cell)


def _repayments(session: Session, first: date | None, last: date | None) -> Iterator[Cell]:
    stmt = (
        select(
            Repayment.paid_on,
            func.sum(Repayment.principal),
            Loan.region_code,
            INDUSTRY,
            Loan.institution_id,
            Loan.product_type,
        )
        .select_from(Repayment)
        .join(Loan, Loan.id == Repayment.loan_id)
        .outerjoin(Enterprise, Enterprise.credit_code == Loan.credit_code)
        .where(*days_within(Repayment.paid_on, first, last))
        .group_by(
            Repayment.paid_on,
            Loan.region_code,
            INDUSTRY,
            Loan.institution_id,
            Loan.product_type,
        )
    )
    for paid_on, principal, region, industry, institution, product_type in session.execute(stmt):
        yield Cell("balance", paid_on, -principal, region, industry, institution, product_type)


def _moves(session: Session, first: date | None, last: date | None) -> Iterator[Cell]:
    """Loans into and out of arrears and default, ended loans, and balances written off."""
    stmt = (
        select(
            Transition.at,
            Transition.from_state,
            Transition.to_state,
            Loan.balance,
            Loan.region_code,
            INDUSTRY,
            Loan.institution_id,
            Loan.product_type,
        )
        .select_from(Transition)
        .join(Loan, Loan.public_id == Transition.subject_id)
        .outerjoin(Enterprise, Enterprise.credit_code == Loan.credit_code)
        .where(Transition.subject_kind == LOAN_KIND, Transition.from_state.is_not(None))
        .where(*within(Transition.at, first, last))
    )
    for at, source, target, balance, *where in session.execute(stmt):
        cell = dict(zip(("region", "industry", "institution", "product_type"), where, strict=True))
        d = _china_day_of(at)
        for state, figure in (
            (LoanState.OVERDUE, "overdue_loans"),
            (LoanState.DEFAULTED, "defaulted_loans"),
        ):
            if target == state:
                yield Cell(figure, d, 1, **cell)
            if source == state:
                yield Cell(figure, d, -1, **cell)
        if target in ENDED:
            yield Cell("live_loans", d, -1, **cell)
        if target == LoanState.WRITTEN_OFF:
            yield Cell("balance", d, -balance, **cell)


def cells(session: Session, first: date | None, last: date | None) -> Iterator[Cell]:
    yield from _needs(session, first, last)
    yield from _applications(session, first, last)
    yield from _loans(session, first, last)
    yield from _repayments(session, first, last)
    yield from _moves(session, first, last)


def touched(session: Session, since: datetime) -> set[date]:
    """Loans and repayments carry the lender's dates, which may be earlier than the window."""
    days = set(session.scalars(select(Loan.start_on).where(Loan.updated_at >= since).distinct()))
    days |= set(
        session.scalars(select(Repayment.paid_on).where(Repayment.recorded_at >= since).distinct())
    )
    return days


SOURCE = Source("market", FIGURES, cells, touched, histograms={"decision_time": DECISION_BOUNDS})

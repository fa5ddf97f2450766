"""Free self-query (自查): the enterprise reads its full report.

Every category and field (the enterprise's own basis shows it all), its rating with the
reasons, and who looked at its data; the PDF is the profile's. Each self-query is recorded
with its year: ``rights.self_query_free`` a year are free (2, as for persons), and past
them ``rights.self_query_fee`` is charged (none by default). The operator's counter staff
run one for a walk-in enterprise, with the identity check recorded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from xinyidai.audit import service as audit_service
from xinyidai.audit.schemas import AccessEventOut
from xinyidai.consent import service as consent_service
from xinyidai.consent.schemas import Decision
from xinyidai.core import clock
from xinyidai.core.errors import Forbidden, ValidationFailed
from xinyidai.core.ids import new_id
from xinyidai.core.settings import get_settings
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.registry import service as registry_service
from xinyidai.rights.models import SelfQuery, SelfQueryChannel
from xinyidai.rights.schemas import SelfQueryOut, SelfReportOut
from xinyidai.scoring import service as rating_service

ACCESS_LOG_SIZE = 50
IDENTITY_MAX = 500


def count_in_year(session: Session, *, credit_code: str, year: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(SelfQuery)
            .where(SelfQuery.credit_code == credit_code, SelfQuery.year == year)
        )
        or 0
    )


def run(
    session: Session,
    *,
    principal: Principal,
    credit_code: str | None = None,
    identity_check: str | None = None,
    channel: SelfQueryChannel = SelfQueryChannel.API,
) -> tuple[SelfQuery, Decision]:
    """Record a self-query and decide the read (one access event): the enterprise's own, or
    the counter's for a walk-in (the identity check required)."""
    kind = principal.organization_kind
    if kind == OrgKind.ENTERPRISE:
        code = principal.credit_code or ""
        if credit_code and registry_service.parse_code_or_raise(credit_code) != code:
            raise Forbidden("an enterprise queries its own report only", field="credit_code")
        check = None
    elif kind == OrgKind.OPERATOR:
        if not credit_code:
            raise ValidationFailed("name the walk-in enterprise", field="credit_code")
        code = registry_service.parse_code_or_raise(credit_code)
        check = (identity_check or "").strip()
        if not check:
            raise ValidationFailed(
                "record how the walk-in's identity was checked", field="identity_check"
            )
        if len(check) > IDENTITY_MAX:
            raise ValidationFailed(
                "at most {maximum} characters", field="identity_check", maximum=IDENTITY_MAX
            )
        channel = SelfQueryChannel.COUNTER
    else:
        raise Forbidden(
            "a self-query is the enterprise's own, or the counter's for it", field="credit_code"
        )
    registry_service.get_by_code_or_raise(session, credit_code=code)
    decision = consent_service.decide(
        session, actor=principal, subject=code, channel=f"rights:self_query:{channel}"
    )
    if not decision.allowed:
        raise consent_service.refusal(decision)
    settings = get_settings().rights
    year = clock.today().year
    earlier = count_in_year(session, credit_code=code, year=year)
    free = earlier < settings.self_query_free
    row = SelfQuery(
        public_id=new_id("sq"),
        credit_code=code,
        year=year,
        channel=channel,
        requested_by=principal.actor,
        identity_check=check,
        access_event=decision.event_id,
        free=free,
        fee=Decimal("0.00") if free else settings.self_query_fee,
    )
    session.add(row)
    session.flush()
    return row, decision


def out(session: Session, row: SelfQuery) -> SelfQueryOut:
    shown = SelfQueryOut.model_validate(row)
    shown.count_this_year = count_in_year(session, credit_code=row.credit_code, year=row.year)
    shown.free_per_year = get_settings().rights.self_query_free
    return shown


def full_report(
    session: Session, *, principal: Principal, row: SelfQuery, decision: Decision, locale: str
) -> SelfReportOut:
    """What the self-query shows: the report, the rating with reasons, who looked."""
    report = consent_service.credit_report(session, decision, actor=principal)
    rating = None
    if rating_service.withheld_from(decision) is None:
        current = rating_service.current_or_rate(session, credit_code=row.credit_code)
        rating = rating_service.rating_out(session, current, locale=locale)
    events = session.scalars(
        audit_service.access_log_statement(subject=row.credit_code).limit(ACCESS_LOG_SIZE)
    ).all()
    return SelfReportOut(
        self_query=out(session, row),
        report=report,
        rating=rating,
        access_log=[AccessEventOut.model_validate(e) for e in events],
    )


def queries_statement(principal: Principal) -> Select[Any]:
    """The self-queries of the caller's enterprise, or every one for the operator."""
    stmt = select(SelfQuery)
    if principal.organization_kind == OrgKind.ENTERPRISE:
        stmt = stmt.where(SelfQuery.credit_code == (principal.credit_code or ""))
    elif principal.organization_kind != OrgKind.OPERATOR:
        raise Forbidden("only the enterprise and the operator see self-queries", field="id")
    return stmt.order_by(SelfQuery.created_at.desc(), SelfQuery.id.desc())

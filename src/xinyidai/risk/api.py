"""JSON API of ``risk`` under ``/api/v1/risk``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.pagination import Page, page_of
from xinyidai.iam.auth import InstitutionUser, require_roles
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.risk import blacklist_api, fraud_api, warning_api
from xinyidai.risk.models import Alert, Watch
from xinyidai.risk.schemas import (
    AlertActIn,
    AlertDetailOut,
    AlertNoteIn,
    AlertOut,
    AlertTransitionOut,
    WatchOut,
)
from xinyidai.risk.service import alerts, watch

router = APIRouter(prefix="/risk", tags=["risk"], responses=ERROR_RESPONSES)
router.include_router(blacklist_api.router)
router.include_router(fraud_api.router)
router.include_router(warning_api.router)  # /risk/warnings: early warning

InstitutionWriter = Annotated[Principal, Depends(require_roles(OrgKind.INSTITUTION, write=True))]


# --------------------------------------------------------------------------- alerts


def alert_out(alert: Alert, shown: bool, detailed: bool) -> AlertOut:
    return AlertOut(
        id=alert.public_id,
        loan_id=alert.loan_id,
        borrower_code=alert.borrower_code,
        credit_code=alert.credit_code if shown else None,
        enterprise_name=alert.enterprise_name if shown else None,
        relation=alert.relation,
        kind=alert.kind,
        category=alert.category,
        severity=alert.severity,
        detailed=detailed,
        state=alert.state,
        action=alert.action,
        note=alert.note,
        event_at=alert.event_at,
        raised_at=alert.raised_at,
    )


def alert_detail(session: SessionDep, principal: Principal, alert: Alert) -> AlertDetailOut:
    shown = alerts.view(session, principal=principal, alert=alert)
    return AlertDetailOut(
        **alert_out(alert, shown.subject_shown, shown.detailed).model_dump(),
        detail=shown.detail,
        access_event=shown.access_event,
        transitions=[
            AlertTransitionOut.model_validate(t) for t in alerts.history(session, alert=alert)
        ],
    )


@router.get("/alerts", response_model=Page[AlertOut])
def list_alerts(
    session: SessionDep,
    principal: InstitutionUser,
    paging: PageDep,
    state: Annotated[str | None, Query(description="new, acknowledged, acted, closed")] = None,
    severity: Annotated[str | None, Query(description="low, medium, high, critical")] = None,
    enterprise: Annotated[
        str | None, Query(max_length=18, description="the credit code of the enterprise")
    ] = None,
    loan_id: Annotated[str | None, Query(max_length=40)] = None,
    kind: Annotated[str | None, Query(max_length=30)] = None,
) -> Page[AlertOut]:
    """Your institution's alerts, newest first: what kind of event, in which category and
    how severe, and whether you may read what happened (`detailed`: the access decision,
    asked once per enterprise and page and recorded). The details are read one alert at a
    time."""
    stmt = alerts.alerts_statement(
        principal,
        state=state,
        severity=severity,
        credit_code=enterprise,
        loan_id=loan_id,
        kind=kind,
    )
    if enterprise:
        stmt = alerts.guarded(session, principal=principal, stmt=stmt, model=Alert)

    def items(rows: list[Alert]) -> list[AlertOut]:
        return [
            alert_out(row.alert, row.subject_shown, row.detailed)
            for row in alerts.listed(session, principal=principal, rows=rows)
        ]

    return page_of(session, stmt, paging, items=items)


@router.get("/alerts/{alert_id}", response_model=AlertDetailOut)
def read_alert(alert_id: str, session: SessionDep, principal: InstitutionUser) -> AlertDetailOut:
    """One alert: its details where the access decision (purpose post_loan_monitoring)
    grants their category, else what happened in which category and how severe; and its
    history. The read is recorded as an access event."""
    alert = alerts.own_or_raise(session, principal=principal, alert_id=alert_id)
    return alert_detail(session, principal, alert)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertDetailOut)
def acknowledge_alert(
    alert_id: str,
    session: SessionDep,
    principal: InstitutionWriter,
    data: AlertNoteIn | None = None,
) -> AlertDetailOut:
    """Acknowledge a new alert."""
    alert = alerts.move(
        session,
        principal=principal,
        alert_id=alert_id,
        transition="acknowledge",
        note=(data or AlertNoteIn()).note,
    )
    return alert_detail(session, principal, alert)


@router.post("/alerts/{alert_id}/act", response_model=AlertDetailOut)
def act_on_alert(
    alert_id: str, data: AlertActIn, session: SessionDep, principal: InstitutionWriter
) -> AlertDetailOut:
    """Record what was done about an acknowledged alert: contact, reduce_limit, freeze,
    recall or none."""
    alert = alerts.move(
        session,
        principal=principal,
        alert_id=alert_id,
        transition="act",
        action=data.action,
        note=data.note,
    )
    return alert_detail(session, principal, alert)


@router.post("/alerts/{alert_id}/close", response_model=AlertDetailOut)
def close_alert(
    alert_id: str,
    session: SessionDep,
    principal: InstitutionWriter,
    data: AlertNoteIn | None = None,
) -> AlertDetailOut:
    """Close an alert that was acted on."""
    alert = alerts.move(
        session,
        principal=principal,
        alert_id=alert_id,
        transition="close",
        note=(data or AlertNoteIn()).note,
    )
    return alert_detail(session, principal, alert)


# --------------------------------------------------------------------------- watch list


@router.get("/watchlist", response_model=Page[WatchOut])
def list_watchlist(
    session: SessionDep,
    principal: InstitutionUser,
    paging: PageDep,
    relation: Annotated[
        str | None,
        Query(description="borrower, guarantee, shareholding, representative, circle"),
    ] = None,
    enterprise: Annotated[str | None, Query(max_length=18)] = None,
) -> Page[WatchOut]:
    """The enterprises your institution's live loans watch, newest loan first."""
    stmt = watch.watchlist_statement(principal, relation=relation, credit_code=enterprise)
    if enterprise:
        stmt = alerts.guarded(session, principal=principal, stmt=stmt, model=Watch)

    def items(rows: list[Watch]) -> list[WatchOut]:
        basis = alerts.guarantee_basis(
            session, principal=principal, borrowers=alerts.needing_basis(rows)
        )
        shown = [
            WatchOut.model_validate(row)
            if alerts.shown_subject(row, basis)
            else WatchOut.model_validate(row).model_copy(
                update={"credit_code": None, "enterprise_name": None}
            )
            for row in rows
        ]
        return shown

    return page_of(session, stmt, paging, items=items)

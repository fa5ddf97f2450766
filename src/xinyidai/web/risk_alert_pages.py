"""Post-loan monitoring pages of an institution: the alert inbox (filters, one alert with
its details through the access decision, its history and the moves it allows) and the
watch list of its live loans.

The work is ``risk.service``'s; these routes parse, check the role and render.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from xinyidai.catalog import service as catalog_service
from xinyidai.core.api import SessionDep
from xinyidai.core.errors import XydError
from xinyidai.core.i18n import N_, current_locale
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.risk.models import AlertAction, AlertSeverity, AlertState, WatchRelation
from xinyidai.risk.service import alerts, watch
from xinyidai.web.auth import CheckedForm, portal_roles
from xinyidai.web.forms import FormState, text
from xinyidai.web.templating import render

router = APIRouter(prefix="/risk", include_in_schema=False)

InstitutionPage = Annotated[Principal, Depends(portal_roles(OrgKind.INSTITUTION))]
InstitutionWriter = Annotated[Principal, Depends(portal_roles(OrgKind.INSTITUTION, write=True))]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
PAGE_SIZE = 20
CHANNEL = "portal"

KIND_LABELS = {
    "negative_record": N_("New negative record"),
    "tax_grade_fall": N_("Tax credit grade fell"),
    "rating_fall": N_("Rating fell"),
    "cross_default": N_("Another loan overdue or defaulted"),
    "circle_default": N_("Guarantee partner defaulted"),
    "record_corrected": N_("A fact relied on was corrected"),
    "record_repaired": N_("A negative record was repaired"),
}
SEVERITY_LABELS = {
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
    "critical": N_("Critical"),
}
STATE_LABELS = {
    "new": N_("New"),
    "acknowledged": N_("Acknowledged"),
    "acted": N_("Acted on"),
    "closed": N_("Closed"),
}
ACTION_LABELS = {
    "contact": N_("Contacted the enterprise"),
    "reduce_limit": N_("Reduced the limit"),
    "freeze": N_("Froze the credit line"),
    "recall": N_("Recalled the loan"),
    "none": N_("No action"),
}
RELATION_LABELS = {
    "borrower": N_("Borrower"),
    "guarantee": N_("Guarantee link"),
    "shareholding": N_("Corporate shareholding"),
    "representative": N_("Same legal representative"),
    "circle": N_("Guarantee circle"),
}
MOVE_LABELS = {
    "raise": N_("Raised"),
    "acknowledge": N_("Acknowledged"),
    "act": N_("Acted on"),
    "close": N_("Closed"),
}
PSEUDO_CATEGORIES = {
    "rating": N_("Credit rating"),
    "platform_loan": N_("Loans on the platform"),
}
LABELS = {
    "kind_labels": KIND_LABELS,
    "severity_labels": SEVERITY_LABELS,
    "alert_states": STATE_LABELS,
    "action_labels": ACTION_LABELS,
    "relation_labels": RELATION_LABELS,
    "move_labels": MOVE_LABELS,
    "severities": [str(s) for s in AlertSeverity],
    "alert_state_values": [str(s) for s in AlertState],
    "actions": [str(a) for a in AlertAction],
    "relations": [str(r) for r in WatchRelation],
}


def _category_names(session: SessionDep) -> dict[str, str]:
    chinese = current_locale() == "zh_CN"
    names = {
        code: spec.name_zh if chinese else spec.name_en
        for code, spec in catalog_service.specs_in_force(session).items()
    }
    return names


def _page(request: Request, session: SessionDep, template: str, **context: Any) -> Response:
    status = context.pop("status", 200)
    return render(
        request,
        template,
        status=status,
        category_names=_category_names(session),
        pseudo_categories=PSEUDO_CATEGORIES,
        **LABELS,
        **context,
    )


@router.get("/alerts")
def inbox_page(
    request: Request,
    session: SessionDep,
    principal: InstitutionPage,
    state: Annotated[str, Query(max_length=20)] = "",
    severity: Annotated[str, Query(max_length=10)] = "",
    page: PageNumber = 1,
) -> Response:
    """The institution's alerts, newest first, by state and severity."""
    stmt = alerts.alerts_statement(principal, state=state or None, severity=severity or None)

    def items(rows: list[Any]) -> list[alerts.Listed]:
        return alerts.listed(session, principal=principal, rows=rows, channel=CHANNEL)

    rows = page_of(session, stmt, PageRequest(page=page, size=PAGE_SIZE), items=items)
    return _page(
        request,
        session,
        "risk/alerts.html",
        rows=rows,
        state=state,
        severity=severity,
        counts=alerts.counts(session, principal=principal),
    )


def _alert_context(session: SessionDep, principal: Principal, alert_id: str) -> dict[str, Any]:
    alert = alerts.own_or_raise(session, principal=principal, alert_id=alert_id)
    return {
        "alert": alert,
        "shown": alerts.view(session, principal=principal, alert=alert, channel=CHANNEL),
        "transitions": alerts.history(session, alert=alert),
        "moves": alerts.ALERTS.available(alert, actor_kind=principal.organization_kind),
    }


@router.get("/alerts/{alert_id}")
def alert_page(
    alert_id: str, request: Request, session: SessionDep, principal: InstitutionPage
) -> Response:
    """One alert: what happened (as the access decision allows), its history, its moves."""
    return _page(
        request,
        session,
        "risk/alert.html",
        form=FormState(),
        **_alert_context(session, principal, alert_id),
    )


@router.post("/alerts/{alert_id}/{move}")
def alert_move(
    alert_id: str,
    move: str,
    request: Request,
    session: SessionDep,
    principal: InstitutionWriter,
    form: CheckedForm,
) -> Response:
    """Acknowledge, act on (with the action taken) or close an alert."""
    state = FormState.from_form(form)
    try:
        alerts.move(
            session,
            principal=principal,
            alert_id=alert_id,
            transition=move,
            action=text(form, "action") or None,
            note=text(form, "note") or None,
        )
    except XydError as error:
        session.rollback()
        return _page(
            request,
            session,
            "risk/alert.html",
            status=error.status,
            form=state.fail(error),
            **_alert_context(session, principal, alert_id),
        )
    session.commit()
    return RedirectResponse(f"/risk/alerts/{alert_id}", status_code=303)


@router.get("/watchlist")
def watchlist_page(
    request: Request,
    session: SessionDep,
    principal: InstitutionPage,
    relation: Annotated[str, Query(max_length=20)] = "",
    page: PageNumber = 1,
) -> Response:
    """The enterprises the institution's live loans watch."""
    stmt = watch.watchlist_statement(principal, relation=relation or None)

    def items(rows: list[Any]) -> list[tuple[Any, bool]]:
        basis = alerts.guarantee_basis(
            session, principal=principal, borrowers=alerts.needing_basis(rows), channel=CHANNEL
        )
        return [(row, alerts.shown_subject(row, basis)) for row in rows]

    rows = page_of(session, stmt, PageRequest(page=page, size=PAGE_SIZE), items=items)
    return _page(request, session, "risk/watchlist.html", rows=rows, relation=relation)

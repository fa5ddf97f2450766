"""Association pages: the operator's list of guarantee circles and chains, and one
enterprise's associations drawn as a graph (the operator's view of any enterprise, an
enterprise's view of itself).

The work is ``graph.service``'s; who may see which enterprise is decided by
``graph.api.association_viewer``, the same function the API uses.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from xinyidai.core import jobs
from xinyidai.core.api import SessionDep, request_locale
from xinyidai.core.bounds import Int
from xinyidai.core.errors import NotFound, ValidationFailed, XydError
from xinyidai.core.i18n import gettext
from xinyidai.core.pagination import Page, PageRequest, page_of, page_of_list
from xinyidai.graph import cycles, links
from xinyidai.graph import service as graph_service
from xinyidai.graph.api import association_viewer
from xinyidai.graph.schemas import KIND_LABELS, SIGNAL_LABELS, AnalysisIn, AssociationsOut
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.registry import service as registry_service
from xinyidai.web.auth import CheckedForm, OperatorPage, OperatorViewer, PageNotFound, portal_roles
from xinyidai.web.forms import N_, FormState
from xinyidai.web.templating import render

router = APIRouter(prefix="/graph", include_in_schema=False)

AssociationReader = Annotated[
    Principal, Depends(portal_roles(OrgKind.OPERATOR, OrgKind.ENTERPRISE))
]

PAGE_SIZE = 20
STRUCTURE_LABELS = {cycles.CIRCLE: N_("Circle"), cycles.CHAIN: N_("Chain")}
RELEASED = N_("released")  # a guarantee no longer binding, in the links table
JOB_STATE_LABELS = {
    jobs.JobState.QUEUED: N_("waiting for a worker"),
    jobs.JobState.RUNNING: N_("running"),
    jobs.JobState.SUCCEEDED: N_("finished"),
    jobs.JobState.FAILED: N_("stopped with an error"),
}
LABELS = {
    "kind_labels": KIND_LABELS,
    "signal_labels": SIGNAL_LABELS,
    "structure_labels": STRUCTURE_LABELS,
    "job_state_labels": JOB_STATE_LABELS,
    "CIRCLE": cycles.CIRCLE,
}


# ------------------------------------------------------------------ circles and chains


def _circles_page(
    request: Request,
    session: SessionDep,
    *,
    kind: str | None,
    member: str | None,
    page: int,
    size: int,
    done: str | None = None,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    state = form or FormState(values={"member": member or "", "kind": kind or ""})
    found: Page[Any] = page_of_list([], PageRequest(page=page, size=size))
    try:
        stmt = graph_service.structures_statement(session, kind=kind, member=member)
        found = page_of(
            session,
            stmt,
            PageRequest(page=page, size=size),
            items=lambda rows: graph_service.structures_out(session, rows),
        )
    except XydError as exc:
        state.fail(exc)
        status = 422
    recent = jobs.list_recent(session, kind=graph_service.JOB_KIND, limit=1)
    return render(
        request,
        "graph/circles.html",
        status=status,
        page=found,
        analysis=graph_service.latest_analysis(session),
        last_job=recent[0] if recent else None,
        form=state,
        filters={"kind": kind or "", "member": member or "", "size": size},
        queued=done == jobs.JobState.QUEUED,
        **LABELS,
    )


@router.get("/circles")
def circles(
    request: Request,
    principal: OperatorViewer,
    session: SessionDep,
    kind: Annotated[str | None, Query(max_length=10)] = None,
    member: Annotated[str | None, Query(max_length=40)] = None,
    page: Annotated[Int, Query(ge=1)] = 1,
    size: Annotated[Int, Query(ge=1, le=100)] = PAGE_SIZE,
    done: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """The latest region analysis: guarantee circles first, then chains."""
    return _circles_page(
        request,
        session,
        kind=kind or None,
        member=(member or "").strip() or None,
        page=page,
        size=size,
        done=done,
    )


@router.post("/circles/analyse")
def analyse(
    request: Request, principal: OperatorPage, form: CheckedForm, session: SessionDep
) -> Response:
    """Queue a region analysis; the page shows it when it has finished."""
    options = AnalysisIn(include_released=form.get("include_released") == "on")
    graph_service.start_analysis(session, options=options, actor=principal.actor)
    return RedirectResponse(f"/graph/circles?done={jobs.JobState.QUEUED}", status_code=303)


# ------------------------------------------------------------------------ associations


@router.get("/enterprises")
def find_enterprise(
    request: Request,
    principal: AssociationReader,
    session: SessionDep,
    code: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Go to an enterprise's associations by its credit code (an enterprise: its own)."""
    if principal.organization_kind == OrgKind.ENTERPRISE:
        if not principal.credit_code:
            raise PageNotFound()
        return RedirectResponse(f"/graph/enterprises/{principal.credit_code}", status_code=303)
    form = FormState(values={"code": code or ""})
    if code:
        try:
            subject = registry_service.get_by_code_or_raise(session, credit_code=code)
        except XydError as exc:
            form.errors["code"] = (exc.message, dict(exc.params))
        else:
            return RedirectResponse(f"/graph/enterprises/{subject.credit_code}", status_code=303)
    return render(
        request,
        "graph/find.html",
        status=422 if form.errors else 200,
        form=form,
    )


def _detail_text(kind: str, detail: dict[str, Any], locale: str) -> str:
    """What a link matched on, as one line of the links table."""
    if kind == links.GUARANTEE:
        amount = detail.get("amount")
        contracts = detail.get("contracts") or []
        if not detail.get("in_force"):
            text = gettext(RELEASED, locale)
        else:
            text = f"{Decimal(amount):,.2f}" if amount is not None else "—"
        return f"{text} · {', '.join(contracts)}" if contracts else text
    if kind == links.SHAREHOLDING:
        ratio = detail.get("share_ratio")
        return f"{ratio}%" if ratio else ""
    value = str(detail.get("value") or "")
    county = detail.get("county")
    return f"{value} · {county}" if county else value


def chart_labels(locale: str) -> dict[str, str]:
    """The words of the graph's legend and tooltips in ``locale``."""
    labels = {kind: gettext(label, locale) for kind, label in KIND_LABELS.items()}
    labels["bad"] = gettext("bad now", locale)
    labels["center"] = gettext("this enterprise", locale)
    labels["other"] = gettext("linked enterprise", locale)
    return labels


def chart_data(found: AssociationsOut, labels: dict[str, str]) -> dict[str, Any]:
    """The graph as ``/static/graph.js`` draws it: nodes, edges and their labels."""
    return {
        "center": found.code,
        "nodes": [
            {
                "id": node.code,
                "name": node.name or node.code,
                "distance": node.distance,
                "bad": node.bad,
            }
            for node in found.nodes
        ],
        "edges": [
            {
                "source": edge.source,
                "target": edge.target,
                "kind": edge.kind,
                "directed": edge.directed,
            }
            for edge in found.edges
        ],
        "labels": labels,
    }


@router.get("/enterprises/{code}")
def associations(
    code: str,
    request: Request,
    principal: AssociationReader,
    session: SessionDep,
    depth: Annotated[Int, Query(ge=1, le=graph_service.MAX_DEPTH)] = graph_service.DEFAULT_DEPTH,
) -> Response:
    """One enterprise's associations: the graph, the links, circles and chains it is in."""
    try:
        subject = registry_service.get_by_code_or_raise(session, credit_code=code)
        viewer = association_viewer(
            session, principal, subject.credit_code, channel="portal:associations"
        )
        found = graph_service.associations(
            session, code=subject.credit_code, depth=depth, viewer=viewer
        )
    except (NotFound, ValidationFailed) as exc:
        raise PageNotFound() from exc
    locale = request_locale(request)
    labels = chart_labels(locale)
    names = {node.code: node.name or node.code for node in found.nodes}
    return render(
        request,
        "graph/associations.html",
        subject=subject,
        found=found,
        names=names,
        depth=depth,
        depths=range(1, graph_service.MAX_DEPTH + 1),
        chart=chart_data(found, labels),
        details={
            (e.source, e.target, e.kind): _detail_text(e.kind, e.detail, locale)
            for e in found.edges
        },
        operator=principal.organization_kind == OrgKind.OPERATOR,
        **LABELS,
    )

"""The dashboard: one page per role, with the organization's facts (and the operator's chart)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from xinyidai.audit import service as audit_service
from xinyidai.consent import service as consent_service
from xinyidai.consent.models import LetterState
from xinyidai.core.api import SessionDep, request_locale
from xinyidai.core.pagination import count_of
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind, OrgState
from xinyidai.registry import service as registry_service
from xinyidai.registry.schemas import EnterpriseOut
from xinyidai.rights.service import objections, repairs
from xinyidai.web.auth import PortalUser
from xinyidai.web.consent_pages import LABELS
from xinyidai.web.rating_pages import rating_view
from xinyidai.web.templating import KIND_LABELS, STATE_LABELS, render

router = APIRouter(include_in_schema=False)


def organization_chart(session: SessionDep) -> dict[str, Any]:
    """ECharts input: organizations per kind (x axis), one stacked series per state."""
    counts = {(row.kind, row.state): row.count for row in iam_service.organization_counts(session)}
    return {
        "kinds": list(OrgKind),
        "kind_labels": [KIND_LABELS[kind] for kind in OrgKind],
        "series": [
            {
                "state": state,
                "label": STATE_LABELS[state],
                "data": [counts.get((kind, state), 0) for kind in OrgKind],
            }
            for state in OrgState
        ],
        "total": sum(counts.values()),
    }


def _letter_counts(session: SessionDep, principal: Any) -> dict[str, int]:
    """The viewer's letters by state (its own, or those it holds)."""
    counts: dict[str, int] = {}
    for state in (LetterState.PENDING, LetterState.ACTIVE):
        letters = consent_service.letters_statement(principal=principal, state=state)
        counts[state] = count_of(session, letters)
    return counts


@router.get("/dashboard")
def dashboard(request: Request, principal: PortalUser, session: SessionDep) -> Response:
    """The signed-in user's dashboard, by organization kind."""
    organization = iam_service.get_organization_or_raise(
        session, public_id=principal.organization_public_id
    )
    context: dict[str, Any] = {"organization": organization}
    active = organization.state == OrgState.ACTIVE
    if principal.organization_kind == OrgKind.OPERATOR and active:
        context["chart"] = organization_chart(session)
        context["pending"] = iam_service.pending_applications(session, limit=10)
        context["rights"] = objections.figures(session)
        context["repairs"] = repairs.counts(session)
    # A pending claim to a credit code learns nothing of that enterprise here: its own
    # organization's facts are all it sees until the operator approves it.
    if principal.organization_kind == OrgKind.ENTERPRISE and organization.credit_code and active:
        subject = registry_service.get_by_code(session, credit_code=organization.credit_code)
        context["subject"] = EnterpriseOut.model_validate(subject) if subject else None
        context["signed"] = consent_service.has_signed(
            session, credit_code=organization.credit_code
        )
        if subject is not None:
            context["rating"] = rating_view(
                session, credit_code=subject.credit_code, locale=request_locale(request)
            )
    if active and principal.organization_kind in (
        OrgKind.ENTERPRISE,
        OrgKind.INSTITUTION,
        OrgKind.PLATFORM,
    ):
        context["letter_counts"] = _letter_counts(session, principal)
    if active and principal.organization_kind in (OrgKind.OPERATOR, OrgKind.AUDITOR):
        context["access"] = audit_service.counts(session)
        context["letter_states"] = consent_service.state_counts(session)
        context["L"] = LABELS
    if principal.is_admin and active and iam_service.KIND_SCOPES.get(organization.kind):
        keys = session.scalars(iam_service.api_keys_statement(organization_id=organization.id))
        context["live_keys"] = sum(1 for key in keys if key.revoked_at is None)
    members = iam_service.users_statement(organization_id=organization.id)
    context["members"] = count_of(session, members)
    return render(request, f"dashboard/{principal.organization_kind}.html", **context)

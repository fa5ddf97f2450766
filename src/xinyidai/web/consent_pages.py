"""Consent pages: the enterprise's letters, commitment and access log; the letters an
institution holds and asks for, and the credit report it may read.

The work is consent's service (the same the API uses); these routes parse the forms, pick
what each role may see, and render. A report page goes through the access decision like
the API does, and a refusal is committed (its audit event) before the page says why.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from xinyidai.audit import service as audit_service
from xinyidai.catalog import service as catalog_service
from xinyidai.consent import service as consent_service
from xinyidai.consent.models import (
    AuthorizationLetter,
    FetchMode,
    GranteeScope,
    LetterState,
    LetterView,
)
from xinyidai.consent.schemas import (
    BASIS_LABELS,
    LETTER_PURPOSES,
    LEVEL_LABELS,
    PURPOSE_LABELS,
    REASON_LABELS,
    Decision,
    LetterIn,
    LetterRequestIn,
)
from xinyidai.core import clock
from xinyidai.core.api import SessionDep, request_locale
from xinyidai.core.bounds import Int, check_int
from xinyidai.core.db import commit_refusal
from xinyidai.core.errors import NotFound, ValidationFailed, XydError
from xinyidai.core.pagination import PageRequest, page_of
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind, OrgState
from xinyidai.iam.schemas import Principal
from xinyidai.privacy.service import LEVELS
from xinyidai.registry import service as registry_service
from xinyidai.web.auth import CheckedForm, PageNotFound, PortalForbidden, portal_roles
from xinyidai.web.forms import N_, FormState, text
from xinyidai.web.templating import render

router = APIRouter(prefix="/consent", include_in_schema=False)

PAGE_SIZE = 20
ANY_INSTITUTION = "any"

LETTER_STATE_LABELS = {
    "pending": N_("Waiting for the enterprise"),
    "active": N_("Letter in force"),
    "rejected": N_("Declined"),
    "paused": N_("Paused"),
    "expired": N_("Expired"),
    "revoked": N_("Withdrawn"),
    "used_up": N_("Used up"),
}
FETCH_LABELS = {
    "once": N_("Once"),
    "on_demand": N_("On demand, while valid"),
    "periodic": N_("Periodically"),
}
VIEW_LABELS = {
    "full": N_("Full values of what is covered"),
    "desensitized": N_("Desensitized values only"),
}
OUTCOME_LABELS = {"allow": N_("Allowed"), "deny": N_("Refused")}
FIELD_VIEW_LABELS = {"raw": N_("shown"), "masked": N_("desensitized"), "withheld": N_("withheld")}
LABELS = {
    "states": LETTER_STATE_LABELS,
    "purposes": PURPOSE_LABELS,
    "bases": BASIS_LABELS,
    "reasons": REASON_LABELS,
    "fetch": FETCH_LABELS,
    "views": VIEW_LABELS,
    "levels": LEVEL_LABELS,
    "outcomes": OUTCOME_LABELS,
    "field_views": FIELD_VIEW_LABELS,
}

EnterpriseViewer = Annotated[Principal, Depends(portal_roles(OrgKind.ENTERPRISE))]
EnterpriseWriter = Annotated[Principal, Depends(portal_roles(OrgKind.ENTERPRISE, write=True))]
GranteeWriter = Annotated[
    Principal, Depends(portal_roles(OrgKind.INSTITUTION, OrgKind.PLATFORM, write=True))
]
LetterViewer = Annotated[
    Principal,
    Depends(
        portal_roles(
            OrgKind.ENTERPRISE,
            OrgKind.INSTITUTION,
            OrgKind.PLATFORM,
            OrgKind.OPERATOR,
            OrgKind.AUDITOR,
        )
    ),
]
ReportReader = Annotated[
    Principal,
    Depends(
        portal_roles(OrgKind.ENTERPRISE, OrgKind.INSTITUTION, OrgKind.PLATFORM, OrgKind.OPERATOR)
    ),
]


def category_names(session: Session, locale: str) -> dict[str, str]:
    return {
        c.code: c.name_zh if locale == "zh_CN" else c.name_en
        for c in catalog_service.list_categories(session, include_inactive=True)
    }


def _letter_or_404(session: Session, principal: Principal, letter_id: str) -> AuthorizationLetter:
    try:
        return consent_service.visible_or_raise(session, principal=principal, letter_id=letter_id)
    except NotFound as exc:
        raise PageNotFound() from exc


# ------------------------------------------------------------------------------ letters


@router.get("/letters")
def letters(
    request: Request,
    principal: LetterViewer,
    session: SessionDep,
    state: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[Int, Query(ge=1)] = 1,
) -> Response:
    """An enterprise's letters, the letters an institution holds, or every letter."""
    chosen = state if state in tuple(LetterState) else None
    stmt = consent_service.letters_statement(principal=principal, state=chosen)
    signed = None
    if principal.organization_kind == OrgKind.ENTERPRISE and principal.credit_code:
        signed = consent_service.has_signed(session, credit_code=principal.credit_code)
    return render(
        request,
        "consent/letters.html",
        page=page_of(session, stmt, PageRequest(page=page, size=PAGE_SIZE)),
        state=chosen or "",
        states=tuple(LetterState),
        signed=signed,
        categories=category_names(session, request_locale(request)),
        L=LABELS,
    )


def _choices(session: Session) -> list[tuple[str, str, str]]:
    """Organizations a letter may name: active institutions and platforms."""
    found: list[tuple[str, str, str]] = []
    for kind in (OrgKind.INSTITUTION, OrgKind.PLATFORM):
        rows = session.scalars(
            iam_service.organizations_statement(kind=kind, state=OrgState.ACTIVE)
        )
        found += [(o.public_id, o.name, o.kind) for o in rows]
    return sorted(found, key=lambda item: item[1])


def _form_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    asking = principal.organization_kind != OrgKind.ENTERPRISE
    today = clock.today()
    defaults = FormState(
        values={
            "purpose": "loan_application",
            "valid_from": today.isoformat(),
            "valid_until": (today + timedelta(days=90)).isoformat(),
            "fetch_mode": "on_demand",
            "data_life_days": "90",
            "view": "full",
        }
    )
    return render(
        request,
        "consent/grant.html",
        status=status,
        form=form or defaults,
        asking=asking,
        grantees=[] if asking else _choices(session),
        categories=catalog_service.list_categories(session),
        zh=request_locale(request) == "zh_CN",
        purposes=LETTER_PURPOSES,
        levels=LEVELS,
        fetch_modes=tuple(FetchMode),
        views=tuple(LetterView),
        L=LABELS,
        selected_categories=set(form.values.get("categories", "").split()) if form else set(),
        selected_levels=set(form.values.get("levels", "").split()) if form else set(),
    )


def _day(form: FormData, name: str, *, required: bool) -> date | None:
    value = text(form, name).strip()
    if not value:
        if required:
            raise ValidationFailed("this field is required", field=name)
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed("not a valid date: {value}", field=name, value=value[:20]) from exc


def _whole(form: FormData, name: str) -> int | None:
    value = text(form, name).strip()
    if not value:
        return None
    if not value.isdigit():
        raise ValidationFailed("must be a whole number", field=name)
    return check_int(int(value), field=name, low=0)


def _terms(form: FormData) -> dict[str, Any]:
    """The letter's terms from the form; dates are whole days in China."""
    valid_from = _day(form, "valid_from", required=False)
    valid_until = _day(form, "valid_until", required=True)
    assert valid_until is not None
    start = None
    if valid_from is not None and valid_from > clock.today():
        start = consent_service.start_of_day(valid_from)
    elif valid_from is not None and valid_from < clock.today():
        raise ValidationFailed("must not be in the past", field="valid_from")
    return {
        "categories": [v for v in form.getlist("categories") if isinstance(v, str)],
        "levels": [v for v in form.getlist("levels") if isinstance(v, str)],
        "purpose": text(form, "purpose"),
        "view": text(form, "view") or "full",
        "valid_from": start,
        "valid_until": consent_service.end_of_day(valid_until),
        "data_from": _day(form, "data_from", required=False),
        "data_until": _day(form, "data_until", required=False),
        "fetch_mode": text(form, "fetch_mode"),
        "fetch_period_days": _whole(form, "fetch_period_days"),
        "data_life_days": _whole(form, "data_life_days") or 0,
        "max_queries": _whole(form, "max_queries"),
        "note": text(form, "note") or None,
    }


def _state_of(form: FormData) -> FormState:
    state = FormState.from_form(form)
    state.values["categories"] = " ".join(
        v for v in form.getlist("categories") if isinstance(v, str)
    )
    state.values["levels"] = " ".join(v for v in form.getlist("levels") if isinstance(v, str))
    return state


def _fail(state: FormState, exc: XydError) -> FormState:
    """The error next to its field: ``categories.2`` belongs to the categories."""
    field = (exc.field or "_form").split(".")[0]
    state.errors[field] = (exc.message, dict(exc.params))
    return state


@router.get("/letters/new")
def new_letter(request: Request, principal: LetterViewer, session: SessionDep) -> Response:
    """The form to grant a letter (enterprise) or to ask for one (institution, platform)."""
    if principal.organization_kind not in (
        OrgKind.ENTERPRISE,
        OrgKind.INSTITUTION,
        OrgKind.PLATFORM,
    ):
        raise PortalForbidden()
    if not principal.can_write:
        raise PortalForbidden("read-only members cannot change anything")
    return _form_page(request, session, principal)


@router.post("/letters")
def create_letter(
    request: Request, principal: LetterViewer, form: CheckedForm, session: SessionDep
) -> Response:
    """Grant the letter (enterprise) or send the request (institution, platform)."""
    if principal.organization_kind not in (
        OrgKind.ENTERPRISE,
        OrgKind.INSTITUTION,
        OrgKind.PLATFORM,
    ):
        raise PortalForbidden()
    if not principal.can_write:
        raise PortalForbidden("read-only members cannot change anything")
    state = _state_of(form)
    try:
        terms = _terms(form)
        if principal.organization_kind == OrgKind.ENTERPRISE:
            grantee = text(form, "grantee_id")
            scope = (
                GranteeScope.ANY_INSTITUTION
                if grantee == ANY_INSTITUTION
                else GranteeScope.ORGANIZATION
            )
            letter = consent_service.grant(
                session,
                principal=principal,
                data=LetterIn(
                    grantee_scope=scope,
                    grantee_id=None if scope == GranteeScope.ANY_INSTITUTION else grantee,
                    **terms,
                ),
            )
        else:
            letter = consent_service.request(
                session,
                principal=principal,
                data=LetterRequestIn(credit_code=text(form, "credit_code"), **terms),
            )
    except XydError as exc:
        session.rollback()
        return _form_page(request, session, principal, form=_fail(state, exc), status=exc.status)
    session.commit()
    return RedirectResponse(f"/consent/letters/{letter.public_id}", status_code=303)


def _letter_page(
    request: Request,
    session: Session,
    principal: Principal,
    letter: AuthorizationLetter,
    *,
    problem: FormState | None = None,
    status: int = 200,
    page: int = 1,
) -> Response:
    uses = audit_service.letter_uses_statement(letter_id=letter.public_id)
    return render(
        request,
        "consent/letter.html",
        status=status,
        letter=letter,
        transitions=consent_service.transitions_of(session, letter=letter),
        uses=page_of(session, uses, PageRequest(page=page, size=PAGE_SIZE)),
        grantor=principal.organization_kind == OrgKind.ENTERPRISE,
        grantee=letter.grantee_id == principal.organization_public_id,
        problem=problem or FormState(),
        categories=category_names(session, request_locale(request)),
        L=LABELS,
    )


@router.get("/letters/{letter_id}")
def letter_page(
    letter_id: str,
    request: Request,
    principal: LetterViewer,
    session: SessionDep,
    page: Annotated[Int, Query(ge=1)] = 1,
) -> Response:
    """One letter: its terms, every move it made, and every query that relied on it."""
    letter = _letter_or_404(session, principal, letter_id)
    return _letter_page(request, session, principal, letter, page=page)


MOVES = {
    "approve": lambda s, p, letter, reason: consent_service.approve(s, principal=p, letter=letter),
    "reject": lambda s, p, letter, reason: consent_service.reject(
        s, principal=p, letter=letter, reason=reason
    ),
    "pause": lambda s, p, letter, reason: consent_service.pause(
        s, principal=p, letter=letter, reason=reason
    ),
    "resume": lambda s, p, letter, reason: consent_service.resume(s, principal=p, letter=letter),
    "revoke": lambda s, p, letter, reason: consent_service.revoke(
        s, principal=p, letter=letter, reason=reason
    ),
}


@router.post("/letters/{letter_id}/{move}")
def move_letter(
    letter_id: str,
    move: str,
    request: Request,
    principal: EnterpriseWriter,
    form: CheckedForm,
    session: SessionDep,
) -> Response:
    """The enterprise approves, rejects, pauses, resumes or revokes one of its letters."""
    action = MOVES.get(move)
    if action is None:
        raise PageNotFound()
    letter = _letter_or_404(session, principal, letter_id)
    try:
        action(session, principal, letter, text(form, "reason") or None)
    except XydError as exc:
        session.rollback()
        letter = _letter_or_404(session, principal, letter_id)
        problem = FormState(values={"reason": text(form, "reason")})
        problem.errors["_form"] = (exc.message, dict(exc.params))
        return _letter_page(request, session, principal, letter, problem=problem, status=exc.status)
    session.commit()
    back = text(form, "back")
    target = "/consent/letters" if back == "list" else f"/consent/letters/{letter.public_id}"
    return RedirectResponse(target, status_code=303)


# --------------------------------------------------------------------------- commitment


@router.get("/commitment")
def commitment_page(request: Request, principal: EnterpriseViewer, session: SessionDep) -> Response:
    """The credit commitment in force and the versions this enterprise signed."""
    return _commitment(request, session, principal)


def _commitment(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    text_ = consent_service.latest_text(session)
    signatures = consent_service.signatures_of(session, credit_code=principal.credit_code or "")
    return render(
        request,
        "consent/commitment.html",
        status=status,
        text=text_,
        signatures=signatures,
        signed_current=text_ is not None
        and any(s.text_version == text_.version for s in signatures),
        form=form or FormState(),
    )


@router.post("/commitment")
def sign_commitment(
    request: Request, principal: EnterpriseWriter, form: CheckedForm, session: SessionDep
) -> Response:
    """Sign the version of the commitment shown on the page."""
    state = FormState.from_form(form)
    try:
        if text(form, "agree") != "yes":
            raise ValidationFailed("tick the box to sign the commitment", field="agree")
        version = _whole(form, "version")
        if version is None:
            raise ValidationFailed("this field is required", field="version")
        consent_service.sign(session, principal=principal, version=version)
    except XydError as exc:
        session.rollback()
        return _commitment(request, session, principal, form=state.fail(exc), status=exc.status)
    session.commit()
    return RedirectResponse("/consent/commitment", status_code=303)


# --------------------------------------------------------------------------- access log


@router.get("/access-log")
def access_log(
    request: Request,
    principal: EnterpriseViewer,
    session: SessionDep,
    others: Annotated[bool, Query()] = True,
    page: Annotated[Int, Query(ge=1)] = 1,
) -> Response:
    """Who looked at this enterprise's data, when, why, and on what basis."""
    stmt = audit_service.access_log_statement(
        subject=principal.credit_code or "", others_only=others
    )
    return render(
        request,
        "consent/access_log.html",
        page=page_of(session, stmt, PageRequest(page=page, size=PAGE_SIZE)),
        others=others,
        categories=category_names(session, request_locale(request)),
        L=LABELS,
    )


# ------------------------------------------------------------------------------ report


def decide_for_page(
    request: Request,
    session: Session,
    principal: Principal,
    code: str,
    *,
    purpose: str | None,
    letter: str | None,
    channel: str,
) -> Decision | Response:
    """A page's one access decision over everything ``principal`` may see of an enterprise,
    or the page that says why there is none (a refusal is logged first). An unknown
    enterprise or letter is a 404."""
    subject = registry_service.get_by_code(session, credit_code=code.strip().upper())
    if subject is None:
        raise PageNotFound()
    try:
        decision = consent_service.decide(
            session,
            actor=principal,
            subject=subject.credit_code,
            purpose=purpose or None,
            letter_id=letter or None,
            channel=channel,
        )
    except NotFound as exc:
        raise PageNotFound() from exc
    except ValidationFailed as exc:
        return render(
            request,
            "error.html",
            status=422,
            title=N_("Not allowed"),
            message=exc.message,
            params=exc.params,
        )
    if not decision.allowed:
        refusal = commit_refusal(session, consent_service.refusal(decision))
        return render(
            request,
            "error.html",
            status=403,
            title=N_("Not allowed"),
            message=refusal.message,
            params=refusal.params,
        )
    return decision


@router.get("/report/{code}")
def report_page(
    code: str,
    request: Request,
    principal: ReportReader,
    session: SessionDep,
    letter: Annotated[str | None, Query(max_length=40)] = None,
    purpose: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The credit report the viewer is entitled to, through the access decision."""
    decided = decide_for_page(
        request, session, principal, code, purpose=purpose, letter=letter, channel="portal:report"
    )
    if isinstance(decided, Response):
        return decided
    report = consent_service.credit_report(session, decided, actor=principal)
    return render(request, "consent/report.html", report=report, L=LABELS)

"""Marketplace pages: the product supermarket for everyone; an enterprise's needs,
matches, applications and loans; an institution's products and rules, incoming matches,
application queue (with the report and the decision form) and loan book; the operator's
overview by institution and region.

The work is ``market.service``'s; these routes parse, check the role and render.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from xinyidai.consent import service as consent_service
from xinyidai.core import clock
from xinyidai.core.api import SessionDep
from xinyidai.core.bounds import check_int
from xinyidai.core.db import commit_refusal
from xinyidai.core.errors import ValidationFailed, XydError
from xinyidai.core.pagination import Page, PageRequest, page_of, page_of_list
from xinyidai.core.transitions import history_of
from xinyidai.iam.models import OrgKind, OrgState
from xinyidai.iam.schemas import Principal
from xinyidai.market import service
from xinyidai.market.models import NeedState, Product
from xinyidai.market.schemas import (
    PRODUCT_TYPES,
    REPAYMENT_METHODS,
    STATE_LABELS,
    WEBHOOK_LABELS,
    ZONES,
    ApplicationIn,
    NeedIn,
    ProductIn,
    RulesIn,
    WebhookEndpointIn,
)
from xinyidai.sharing.service import enrolment as sharing_enrolment
from xinyidai.web.auth import CheckedForm, OptionalPortalUser, portal_roles
from xinyidai.web.forms import N_, FormState, text
from xinyidai.web.templating import render

router = APIRouter(prefix="/market", include_in_schema=False)

EnterprisePage = Annotated[Principal, Depends(portal_roles(OrgKind.ENTERPRISE, write=True))]
InstitutionPage = Annotated[Principal, Depends(portal_roles(OrgKind.INSTITUTION))]
InstitutionWriter = Annotated[Principal, Depends(portal_roles(OrgKind.INSTITUTION, write=True))]
MarketMember = Annotated[
    Principal, Depends(portal_roles(OrgKind.ENTERPRISE, OrgKind.INSTITUTION, OrgKind.OPERATOR))
]
OperatorPage = Annotated[Principal, Depends(portal_roles(OrgKind.OPERATOR))]
ApplicationParty = Annotated[
    Principal, Depends(portal_roles(OrgKind.ENTERPRISE, OrgKind.INSTITUTION))
]
PageNumber = Annotated[int, Query(ge=1)]

PAGE_SIZE = 20

TYPE_LABELS = {
    "credit": N_("Pure credit loan"),
    "tax": N_("Tax-based loan"),
    "procurement": N_("Government-procurement loan"),
    "tech": N_("Technology loan"),
    "supply_order": N_("Supply chain: orders"),
    "supply_warehouse": N_("Supply chain: warehouse receipts"),
    "supply_inventory": N_("Supply chain: inventory"),
    "supply_receivable": N_("Supply chain: receivables"),
    "policy": N_("Insurance-policy loan"),
    "ip_pledge": N_("IP pledge loan"),
    "guarantee": N_("Guarantee"),
}
ZONE_LABELS = {
    "rural": N_("Rural revitalization"),
    "green": N_("Green finance"),
    "regional": N_("Regional specialty"),
    "fast": N_("Fast loans"),
    "relief": N_("Relief loans"),
    "first_loan": N_("First loans"),
    "renewal": N_("Renewal without repayment"),
}
METHOD_LABELS = {
    "equal_instalment": N_("Equal instalments"),
    "equal_principal": N_("Equal principal"),
    "interest_only": N_("Interest only, principal at maturity"),
}
LABELS = {
    "type_labels": TYPE_LABELS,
    "zone_labels": ZONE_LABELS,
    "method_labels": METHOD_LABELS,
    "market_states": STATE_LABELS,
    "webhook_labels": WEBHOOK_LABELS,
}


def _decimal(value: str, field: str) -> Decimal:
    try:
        return Decimal(value.replace(",", "").strip())
    except InvalidOperation:
        raise ValidationFailed("must be a number", field=field) from None


def _int(value: str, field: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ValidationFailed("must be a whole number", field=field) from None
    return check_int(number, field=field)


def _model(model: type[Any], body: dict[str, Any]) -> Any:
    """A schema from form values; a pydantic error becomes the field's error."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise ValidationFailed("{reason}", field=field, reason=first["msg"]) from None


def _page(request: Request, template: str, *, status: int = 200, **context: Any) -> Response:
    return render(request, template, status=status, **LABELS, **context)


# --------------------------------------------------------------------------- supermarket


@router.get("")
def supermarket(
    request: Request,
    session: SessionDep,
    principal: OptionalPortalUser,
    type: Annotated[str, Query(max_length=30)] = "",
    zone: Annotated[str, Query(max_length=30)] = "",
    region: Annotated[str, Query(max_length=6)] = "",
    amount: Annotated[str, Query(max_length=20)] = "",
    policy: Annotated[str, Query(max_length=3)] = "",
    page: PageNumber = 1,
) -> Response:
    """The product supermarket: filter by type, zone, region, amount and policy products."""
    request.state.principal = principal
    form = FormState(
        values={"type": type, "zone": zone, "region": region, "amount": amount, "policy": policy}
    )
    products: Page[Any] = page_of_list([], PageRequest(page=page, size=PAGE_SIZE))
    status = 200
    try:
        stmt = service.products.supermarket_statement(
            session,
            product_type=type or None,
            zone=zone or None,
            region=region or None,
            amount=_decimal(amount, "amount") if amount else None,
            policy=True if policy == "yes" else None,
        )
        products = page_of(session, stmt, PageRequest(page=page, size=PAGE_SIZE))
    except XydError as error:
        form.fail(error)
        status = error.status
    return _page(
        request,
        "market/supermarket.html",
        status=status,
        form=form,
        products=products,
        product_types=PRODUCT_TYPES,
        zones=ZONES,
        scheme_names=service.products.scheme_names(
            session, sorted({s for p in products.items for s in p.policy_schemes})
        ),
    )


@router.get("/products/{product_id}")
def product_page(
    product_id: str, request: Request, session: SessionDep, principal: OptionalPortalUser
) -> Response:
    """One product; an enterprise applies from here, its institution sets its rules."""
    request.state.principal = principal
    product = service.products.visible_or_raise(session, principal=principal, product_id=product_id)
    needs = []
    if (
        principal is not None
        and principal.organization_kind == OrgKind.ENTERPRISE
        and principal.organization_state == OrgState.ACTIVE
    ):
        needs = list(session.scalars(service.visibility.needs(principal, state=NeedState.OPEN)))
    rule = service.rules.get(session, product_id=product.public_id)
    return _page(
        request,
        "market/product.html",
        product=product,
        needs=needs,
        rule=rule,
        form=FormState(),
        **_product_moves(session, principal, product),
    )


def _product_moves(
    session: SessionDep, principal: Principal | None, product: Product
) -> dict[str, Any]:
    """The moves its institution may make on a product now, and the product's history (for
    its institution and the operator)."""
    if not service.products.may_manage(principal, product):
        return {"moves": [], "history": None}
    return {
        "moves": service.products.PRODUCTS.available(product),
        "history": service.products.PRODUCTS.history(session, product),
    }


@router.post("/products/{product_id}/apply")
def apply_page(
    product_id: str,
    request: Request,
    session: SessionDep,
    principal: EnterprisePage,
    form: CheckedForm,
) -> Response:
    """Apply (with the explicit authorization), then see the application's progress."""
    state = FormState.from_form(form)
    try:
        data = _model(
            ApplicationIn,
            {
                "product_id": product_id,
                "need_id": text(form, "need_id") or None,
                "amount": _decimal(text(form, "amount"), "amount"),
                "term_months": _int(text(form, "term_months"), "term_months"),
                "repayment_method": text(form, "repayment_method"),
                "purpose": text(form, "purpose"),
                "authorize": text(form, "authorize") == "yes",
            },
        )
        application, _ = service.rules.submit_and_decide(
            session, principal=principal, data=data, idempotency_key=text(form, "idempotency_key")
        )
    except XydError as error:
        session.rollback()
        product = service.products.visible_or_raise(
            session, principal=principal, product_id=product_id
        )
        return _page(
            request,
            "market/product.html",
            status=error.status,
            product=product,
            needs=[],
            rule=None,
            form=state.fail(error),
            **_product_moves(session, principal, product),
        )
    session.commit()
    return RedirectResponse(f"/market/applications/{application.public_id}", status_code=303)


# --------------------------------------------------------------------------- needs


def _needs(session: SessionDep, principal: Principal, page: int = 1) -> Page[Any]:
    """A page of the enterprise's needs, newest first."""
    return page_of(
        session, service.visibility.needs(principal), PageRequest(page=page, size=PAGE_SIZE)
    )


@router.get("/needs")
def needs_page(
    request: Request, session: SessionDep, principal: EnterprisePage, page: PageNumber = 1
) -> Response:
    """The enterprise's needs and the form to post one."""
    needs = _needs(session, principal, page)
    return _page(request, "market/needs.html", needs=needs, form=FormState())


@router.post("/needs")
def post_need_page(
    request: Request, session: SessionDep, principal: EnterprisePage, form: CheckedForm
) -> Response:
    state = FormState.from_form(form)
    try:
        data = _model(
            NeedIn,
            {
                "amount": _decimal(text(form, "amount"), "amount"),
                "term_months": _int(text(form, "term_months"), "term_months"),
                "purpose": text(form, "purpose"),
                "max_rate": _decimal(text(form, "max_rate"), "max_rate")
                if text(form, "max_rate")
                else None,
                "collateral": form.getlist("collateral"),
                "urgency": text(form, "urgency") or "normal",
            },
        )
        need = service.matching.post_need(session, principal=principal, data=data)
    except XydError as error:
        session.rollback()
        needs = _needs(session, principal)
        return _page(
            request, "market/needs.html", status=error.status, needs=needs, form=state.fail(error)
        )
    service.webhooks.announce_need(session, need=need)
    session.commit()
    return RedirectResponse(f"/market/needs/{need.public_id}", status_code=303)


@router.get("/needs/{need_id}")
def need_page(
    need_id: str, request: Request, session: SessionDep, principal: MarketMember
) -> Response:
    """A need and the products ranked for it, with why each matched or not."""
    need = service.matching.visible_need_or_raise(session, principal=principal, need_id=need_id)
    matches = service.matching.matches_for_need(
        session, need=need, reader=principal, channel="portal:market.need"
    )
    return _page(request, "market/need.html", need=need, matches=matches)


@router.get("/incoming")
def incoming_page(request: Request, session: SessionDep, principal: InstitutionPage) -> Response:
    """Open needs matching the institution's published products."""
    rows = service.matching.needs_for_institution(
        session, reader=principal, channel="portal:market.incoming"
    )
    return _page(request, "market/incoming.html", rows=rows)


# --------------------------------------------------------------------------- applications


@router.get("/applications")
def applications_page(
    request: Request,
    session: SessionDep,
    principal: MarketMember,
    state: Annotated[str, Query(max_length=20)] = "",
    page: PageNumber = 1,
) -> Response:
    """The enterprise's applications; the institution's queue; every one for the operator."""
    rows = page_of(
        session,
        service.visibility.applications(principal, state=state or None),
        PageRequest(page=page, size=PAGE_SIZE),
    )
    kind = principal.organization_kind
    latency = service.applications.decision_latency(
        session,
        institution_id=principal.organization_public_id if kind == OrgKind.INSTITUTION else None,
    )
    return _page(request, "market/applications.html", rows=rows, state=state, latency=latency)


def _application_context(
    session: SessionDep, principal: Principal, application_id: str
) -> dict[str, Any]:
    application = service.applications.visible_or_raise(
        session, principal=principal, application_id=application_id
    )
    transitions = service.applications.history(session, application=application)
    product = service.products.get_or_raise(session, product_id=application.product_id)
    loan = service.loans.of_application(session, application_id=application.public_id)
    return {
        "application": application,
        "transitions": transitions,
        "product": product,
        "loan": loan,
    }


@router.get("/applications/{application_id}")
def application_page(
    application_id: str, request: Request, session: SessionDep, principal: MarketMember
) -> Response:
    """An application's progress; the institution's review and decision forms."""
    context = _application_context(session, principal, application_id)
    return _page(request, "market/application.html", form=FormState(), **context)


@router.get("/applications/{application_id}/report")
def application_report_page(
    application_id: str, request: Request, session: SessionDep, principal: InstitutionPage
) -> Response:
    """The applicant's credit report under the application's letter (the access decision
    decides and logs; a refusal shows its reason)."""
    application = service.applications.visible_or_raise(
        session, principal=principal, application_id=application_id
    )
    decision = service.applications.report(session, principal=principal, application=application)
    if not decision.allowed:
        raise commit_refusal(session, consent_service.refusal(decision))
    report = consent_service.credit_report(session, decision, actor=principal)
    return _page(request, "market/report.html", application=application, report=report)


ACTIONS = {"accept", "request_info", "supply_info", "withdraw", "decide", "disburse"}


@router.post("/applications/{application_id}/{action}")
def application_action(
    application_id: str,
    action: str,
    request: Request,
    session: SessionDep,
    principal: ApplicationParty,
    form: CheckedForm,
) -> Response:
    """One move on an application from its page."""
    state = FormState.from_form(form)
    try:
        if action not in ACTIONS:
            raise ValidationFailed("unknown action", field="action")
        if not principal.can_write:
            raise ValidationFailed("read-only members cannot change anything", field="action")
        if action == "decide":
            service.applications.decide(
                session,
                principal=principal,
                application_id=application_id,
                outcome=text(form, "outcome"),
                amount=_decimal(text(form, "amount"), "amount") if text(form, "amount") else None,
                rate=_decimal(text(form, "rate"), "rate") if text(form, "rate") else None,
                term=_int(text(form, "term_months"), "term_months")
                if text(form, "term_months")
                else None,
                reason=text(form, "reason"),
            )
        elif action == "disburse":
            start = text(form, "start_on")
            loan = service.loans.disburse(
                session,
                principal=principal,
                application_id=application_id,
                start_on=date.fromisoformat(start) if start else None,
                contract=text(form, "contract_number"),
            )
            session.commit()
            return RedirectResponse(f"/market/loans/{loan.public_id}", status_code=303)
        else:
            service.applications.act(
                session,
                principal=principal,
                application_id=application_id,
                transition=action,
                note=text(form, "note"),
            )
    except XydError as error:
        session.rollback()
        context = _application_context(session, principal, application_id)
        return _page(
            request,
            "market/application.html",
            status=error.status,
            form=state.fail(error),
            **context,
        )
    session.commit()
    return RedirectResponse(f"/market/applications/{application_id}", status_code=303)


# --------------------------------------------------------------------------- loans


@router.get("/loans")
def loans_page(
    request: Request,
    session: SessionDep,
    principal: MarketMember,
    state: Annotated[str, Query(max_length=20)] = "",
    page: PageNumber = 1,
) -> Response:
    """The enterprise's loans; the institution's loan book (with exports); all loans."""
    rows = page_of(
        session,
        service.visibility.loans(principal, state=state or None),
        PageRequest(page=page, size=PAGE_SIZE),
    )
    today = clock.today()
    overdue = {
        loan.public_id: service.loans.overdue_days(
            service.loans.instalments_of(session, loan=loan), today
        )
        for loan in rows.items
    }
    return _page(request, "market/loans.html", rows=rows, state=state, overdue=overdue)


def _loan_context(session: SessionDep, principal: Principal, loan_id: str) -> dict[str, Any]:
    loan = service.loans.visible_or_raise(session, principal=principal, loan_id=loan_id)
    lines = service.loans.instalments_of(session, loan=loan)
    return {
        "loan": loan,
        "lines": lines,
        "repayments": service.loans.repayments_of(session, loan=loan),
        "transitions": service.loans.history(session, loan=loan),
        "overdue_days": service.loans.overdue_days(lines, clock.today()),
        "payoff": service.loans.outstanding(lines),
        "guarantee": _guarantee(session, principal, loan.public_id),
    }


def _guarantee(session: SessionDep, principal: Principal, loan_id: str) -> Any:
    """The loan's risk-sharing enrolment and guarantee contract, to those who may see it."""
    try:
        return sharing_enrolment.out(
            sharing_enrolment.of_loan_visible_or_raise(
                session, principal=principal, loan_id=loan_id
            )
        )
    except XydError:
        return None


@router.get("/loans/{loan_id}")
def loan_page(
    loan_id: str, request: Request, session: SessionDep, principal: MarketMember
) -> Response:
    """A loan: schedule, repayments, transitions; the lender records repayments here."""
    return _page(
        request, "market/loan.html", form=FormState(), **_loan_context(session, principal, loan_id)
    )


@router.post("/loans/{loan_id}/{action}")
def loan_action(
    loan_id: str,
    action: str,
    request: Request,
    session: SessionDep,
    principal: InstitutionWriter,
    form: CheckedForm,
) -> Response:
    state = FormState.from_form(form)
    try:
        if action == "repay":
            paid = text(form, "paid_on")
            service.loans.repay(
                session,
                principal=principal,
                loan_id=loan_id,
                amount=_decimal(text(form, "amount"), "amount"),
                paid_on=date.fromisoformat(paid) if paid else None,
            )
        elif action in ("default", "write_off"):
            service.loans.declare(
                session,
                principal=principal,
                loan_id=loan_id,
                transition=action,
                reason=text(form, "reason"),
            )
        else:
            raise ValidationFailed("unknown action", field="action")
    except (XydError, ValueError) as error:
        session.rollback()
        failure = (
            error
            if isinstance(error, XydError)
            else ValidationFailed("must be a date", field="paid_on")
        )
        return _page(
            request,
            "market/loan.html",
            status=failure.status,
            form=state.fail(failure),
            **_loan_context(session, principal, loan_id),
        )
    session.commit()
    return RedirectResponse(f"/market/loans/{loan_id}", status_code=303)


# --------------------------------------------------------------------------- products


def _product_body(form: Any) -> dict[str, Any]:
    def words(name: str) -> list[str]:
        return [w for w in text(form, name).replace("，", ",").replace(" ", ",").split(",") if w]

    eligibility: dict[str, Any] = {"no_dishonest": text(form, "no_dishonest") == "yes"}
    if text(form, "min_grade"):
        eligibility["min_grade"] = text(form, "min_grade")
    if text(form, "min_years"):
        eligibility["min_years"] = _int(text(form, "min_years"), "eligibility.min_years")
    return {
        "name": text(form, "name"),
        "product_type": text(form, "product_type"),
        "description": text(form, "description") or None,
        "amount_min": _decimal(text(form, "amount_min"), "amount_min"),
        "amount_max": _decimal(text(form, "amount_max"), "amount_max"),
        "term_min": _int(text(form, "term_min"), "term_min"),
        "term_max": _int(text(form, "term_max"), "term_max"),
        "rate_min": _decimal(text(form, "rate_min"), "rate_min"),
        "rate_max": _decimal(text(form, "rate_max"), "rate_max"),
        "repayment_methods": form.getlist("repayment_methods"),
        "regions": words("regions"),
        "industries": words("industries"),
        "collateral": words("collateral"),
        "eligibility": eligibility,
        "documents": words("documents"),
        "zones": form.getlist("zones"),
        "policy_schemes": words("policy_schemes"),
    }


def _own_products(session: SessionDep, principal: Principal, page: int = 1) -> Page[Any]:
    """A page of the institution's products in every state, newest first."""
    stmt = service.products.of_institution_statement(
        institution_id=principal.organization_public_id
    )
    return page_of(session, stmt, PageRequest(page=page, size=PAGE_SIZE))


@router.get("/my-products")
def my_products(
    request: Request, session: SessionDep, principal: InstitutionPage, page: PageNumber = 1
) -> Response:
    """The institution's products in every state, and the form to draft one."""
    rows = _own_products(session, principal, page)
    return _page(
        request,
        "market/my_products.html",
        rows=rows,
        form=FormState(),
        product_types=PRODUCT_TYPES,
        zones=ZONES,
        methods=REPAYMENT_METHODS,
    )


@router.post("/my-products")
def create_product_page(
    request: Request, session: SessionDep, principal: InstitutionWriter, form: CheckedForm
) -> Response:
    state = FormState.from_form(form)
    try:
        product = service.products.create(
            session, principal=principal, data=_model(ProductIn, _product_body(form))
        )
    except XydError as error:
        session.rollback()
        rows = _own_products(session, principal)
        return _page(
            request,
            "market/my_products.html",
            status=error.status,
            rows=rows,
            form=state.fail(error),
            product_types=PRODUCT_TYPES,
            zones=ZONES,
            methods=REPAYMENT_METHODS,
        )
    session.commit()
    return RedirectResponse(f"/market/products/{product.public_id}", status_code=303)


@router.post("/my-products/{product_id}/{transition}")
def move_product_page(
    product_id: str,
    transition: str,
    session: SessionDep,
    principal: InstitutionWriter,
    form: CheckedForm,
) -> Response:
    """publish, pause or withdraw; or set the automatic rules (``rules``)."""
    product = service.products.get_or_raise(session, product_id=product_id)
    if transition == "rules":
        caps = {
            g: _decimal(v, f"amount_caps.{g}")
            for g, v in (
                pair.split("=", 1) for pair in text(form, "amount_caps").split() if "=" in pair
            )
        }
        rates = {
            g: _decimal(v, f"rates.{g}")
            for g, v in (pair.split("=", 1) for pair in text(form, "rates").split() if "=" in pair)
        }
        service.rules.configure(
            session,
            principal=principal,
            product=product,
            data=_model(
                RulesIn,
                {
                    "enabled": text(form, "enabled") == "yes",
                    "min_grade": text(form, "min_grade"),
                    "amount_caps": caps,
                    "rates": rates,
                    "hard_declines": form.getlist("hard_declines"),
                },
            ),
        )
    else:
        service.products.move(session, principal=principal, product=product, transition=transition)
    session.commit()
    return RedirectResponse(f"/market/products/{product_id}", status_code=303)


# --------------------------------------------------------------------------- webhooks


def _webhooks_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    form: FormState | None = None,
    status: int = 200,
    secret: str | None = None,
    secret_endpoint: str | None = None,
    page: int = 1,
) -> Response:
    institution = principal.organization_public_id
    return _page(
        request,
        "market/webhooks.html",
        status=status,
        form=form or FormState(),
        endpoints=session.scalars(
            service.webhooks.endpoints_statement(institution_id=institution)
        ).all(),
        deliveries=page_of(
            session,
            service.webhooks.deliveries_statement(institution_id=institution),
            PageRequest(page=page, size=DELIVERIES_PER_PAGE),
        ),
        secret=secret,
        secret_endpoint=secret_endpoint,
    )


DELIVERIES_PER_PAGE = 50


@router.get("/webhooks")
def webhooks_page(
    request: Request, session: SessionDep, principal: InstitutionPage, page: PageNumber = 1
) -> Response:
    """The institution's webhook endpoints and delivery log (secrets are never shown here)."""
    return _webhooks_page(request, session, principal, page=page)


@router.post("/webhooks")
def register_webhook_page(
    request: Request, session: SessionDep, principal: InstitutionWriter, form: CheckedForm
) -> Response:
    """Register an endpoint; the answer shows its secret, this once."""
    state = FormState.from_form(form)
    try:
        data = _model(WebhookEndpointIn, {"url": text(form, "url")})
        endpoint, secret = service.webhooks.register(session, principal=principal, url=data.url)
    except XydError as error:
        session.rollback()
        return _webhooks_page(
            request, session, principal, form=state.fail(error), status=error.status
        )
    session.commit()
    return _webhooks_page(
        request, session, principal, secret=secret, secret_endpoint=endpoint.public_id
    )


@router.post("/webhooks/{endpoint_id}/{action}")
def webhook_action_page(
    endpoint_id: str,
    action: str,
    request: Request,
    session: SessionDep,
    principal: InstitutionWriter,
    form: CheckedForm,
) -> Response:
    """``rotate`` an endpoint's secret (the answer shows the new one, this once) or
    ``deactivate`` the endpoint."""
    state = FormState.from_form(form)
    try:
        if action == "rotate":
            endpoint, secret = service.webhooks.rotate_secret(
                session, principal=principal, endpoint_id=endpoint_id
            )
        elif action == "deactivate":
            service.webhooks.deactivate(session, principal=principal, endpoint_id=endpoint_id)
        else:
            raise ValidationFailed("unknown action", field="action")
    except XydError as error:
        session.rollback()
        return _webhooks_page(
            request, session, principal, form=state.fail(error), status=error.status
        )
    session.commit()
    if action == "rotate":
        return _webhooks_page(
            request, session, principal, secret=secret, secret_endpoint=endpoint.public_id
        )
    return RedirectResponse("/market/webhooks", status_code=303)


def _delivery_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    delivery_id: str,
    *,
    form: FormState | None = None,
    status: int = 200,
) -> Response:
    delivery, endpoint = service.webhooks.own_delivery_or_raise(
        session, principal=principal, delivery_id=delivery_id
    )
    return _page(
        request,
        "market/webhook_delivery.html",
        status=status,
        form=form or FormState(),
        delivery=delivery,
        endpoint=endpoint,
        payload=json.dumps(delivery.payload, ensure_ascii=False, indent=2),
        attempts=service.webhooks.attempts_of(session, delivery=delivery),
        transitions=history_of(
            session, kind=service.webhooks.DELIVERY_KIND, subject_id=delivery.public_id
        ),
    )


@router.get("/webhooks/deliveries/{delivery_id}")
def webhook_delivery_page(
    delivery_id: str, request: Request, session: SessionDep, principal: InstitutionPage
) -> Response:
    """One delivery: its payload and every attempt, with the button to send it again."""
    return _delivery_page(request, session, principal, delivery_id)


@router.post("/webhooks/deliveries/{delivery_id}/redeliver")
def redeliver_page(
    delivery_id: str,
    request: Request,
    session: SessionDep,
    principal: InstitutionWriter,
    form: CheckedForm,
) -> Response:
    """Queue a new attempt at a delivery now."""
    try:
        service.webhooks.redeliver(session, principal=principal, delivery_id=delivery_id)
    except XydError as error:
        session.rollback()
        failed = FormState.from_form(form).fail(error)
        return _delivery_page(
            request, session, principal, delivery_id, form=failed, status=error.status
        )
    session.commit()
    return RedirectResponse(f"/market/webhooks/deliveries/{delivery_id}", status_code=303)


# --------------------------------------------------------------------------- operator


@router.get("/overview")
def overview_page(request: Request, session: SessionDep, principal: OperatorPage) -> Response:
    """Products, applications and loans by institution and by region, with a chart."""
    products = service.products.all_products(session)
    applications = session.scalars(service.visibility.applications(principal)).all()
    loans = session.scalars(service.visibility.loans(principal)).all()
    institutions = sorted({p.institution_name for p in products})
    by_institution = {
        name: {
            "products": sum(1 for p in products if p.institution_name == name),
            "applications": sum(1 for a in applications if a.institution_name == name),
            "loans": sum(1 for loan in loans if loan.institution_name == name),
            "outstanding": sum(
                (loan.balance for loan in loans if loan.institution_name == name), Decimal(0)
            ),
        }
        for name in institutions
    }
    regions = Counter((loan.region_code or "—")[:4] for loan in loans)
    app_regions = Counter((a.region_code or "—")[:4] for a in applications)
    states = Counter(a.state for a in applications)
    loan_states = Counter(loan.state for loan in loans)
    chart = {
        "categories": institutions,
        "series": [
            [by_institution[n]["products"] for n in institutions],
            [by_institution[n]["applications"] for n in institutions],
            [by_institution[n]["loans"] for n in institutions],
        ],
    }
    return _page(
        request,
        "market/overview.html",
        by_institution=by_institution,
        regions=sorted(set(regions) | set(app_regions)),
        region_loans=regions,
        region_applications=app_regions,
        states=states,
        loan_states=loan_states,
        chart=chart,
        latency=service.applications.decision_latency(session),
    )

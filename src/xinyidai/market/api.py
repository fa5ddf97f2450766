"""HTTP routes of the financing marketplace: the product supermarket, institutions'
products, enterprises' needs and their matches."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi.responses import PlainTextResponse

from xinyidai.consent import service as consent_service
from xinyidai.consent.api import enforce
from xinyidai.consent.schemas import ReportOut
from xinyidai.core import clock
from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.errors import Forbidden, NotFound
from xinyidai.core.pagination import Page, page_of, page_of_list
from xinyidai.iam.auth import (
    CurrentUser,
    InstitutionUser,
    optional_active_principal,
    require_roles,
)
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.market import service
from xinyidai.market.models import (
    Application,
    Loan,
    Need,
    Product,
    WebhookDelivery,
    WebhookEndpoint,
)
from xinyidai.market.schemas import (
    ApplicationDetailOut,
    ApplicationIn,
    ApplicationOut,
    DecisionIn,
    DisburseIn,
    InstalmentOut,
    LatencyOut,
    LoanDetailOut,
    LoanOut,
    MatchOut,
    NeedIn,
    NeedMatchOut,
    NeedOut,
    NoteIn,
    ProductIn,
    ProductOut,
    ReasonIn,
    RepaymentIn,
    RepaymentOut,
    RulesIn,
    RulesOut,
    TransitionOut,
    WebhookAttemptOut,
    WebhookDeliveryDetailOut,
    WebhookDeliveryOut,
    WebhookEndpointIn,
    WebhookEndpointOut,
    WebhookRotateIn,
    WebhookSecretOut,
)
from xinyidai.market.service import visibility

router = APIRouter(tags=["market"], responses=ERROR_RESPONSES)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

InstitutionWriter = Annotated[Principal, Depends(require_roles(OrgKind.INSTITUTION, write=True))]
EnterpriseWriter = Annotated[Principal, Depends(require_roles(OrgKind.ENTERPRISE, write=True))]
EnterpriseUser = Annotated[Principal, Depends(require_roles(OrgKind.ENTERPRISE))]
MaybePrincipal = Annotated[Principal | None, Depends(optional_active_principal)]


def product_out(product: Product) -> ProductOut:
    return ProductOut.model_validate(product)


def need_out(need: Need) -> NeedOut:
    return NeedOut.model_validate(need)


# --------------------------------------------------------------------------- products


@router.get("/products", response_model=Page[ProductOut])
def browse_products(
    session: SessionDep,
    paging: PageDep,
    type: Annotated[str | None, Query(description="product type")] = None,
    zone: Annotated[str | None, Query(description="zone tag")] = None,
    region: Annotated[str | None, Query(description="region code served")] = None,
    amount: Annotated[Decimal | None, Query(description="yuan within the product's range")] = None,
    institution: Annotated[str | None, Query(description="institution public id")] = None,
    q: Annotated[str | None, Query(description="words in the name")] = None,
    policy: Annotated[
        bool | None,
        Query(description="true: policy products only (linked to a scheme); false: others"),
    ] = None,
) -> Page[ProductOut]:
    """The product supermarket (public): published products of active institutions."""
    stmt = service.products.supermarket_statement(
        session,
        product_type=type,
        zone=zone,
        region=region,
        amount=amount,
        institution=institution,
        q=q,
        policy=policy,
    )
    return page_of(session, stmt, paging, product_out)


@router.get("/products/{product_id}", response_model=ProductOut)
def read_product(product_id: str, session: SessionDep, principal: MaybePrincipal) -> ProductOut:
    """One product: published ones for anyone, others for their institution and the operator."""
    return product_out(
        service.products.visible_or_raise(session, principal=principal, product_id=product_id)
    )


@router.get("/products/{product_id}/transitions", response_model=list[TransitionOut])
def product_transitions(
    product_id: str, session: SessionDep, principal: CurrentUser
) -> list[TransitionOut]:
    """A product's history, oldest first: created, published, paused, withdrawn, who moved
    it and when (its institution and the operator)."""
    rows = service.products.history(session, principal=principal, product_id=product_id)
    return [TransitionOut.model_validate(row) for row in rows]


@router.get("/institution/products", response_model=Page[ProductOut])
def list_own_products(
    session: SessionDep,
    principal: InstitutionUser,
    paging: PageDep,
    state: Annotated[str | None, Query(description="draft, published, paused, withdrawn")] = None,
) -> Page[ProductOut]:
    """Your institution's products in every state (or one), newest first."""
    stmt = service.products.of_institution_statement(
        institution_id=principal.organization_public_id, state=state
    )
    return page_of(session, stmt, paging, product_out)


@router.post("/products", response_model=ProductOut, status_code=201)
def create_product(
    data: ProductIn, session: SessionDep, principal: InstitutionWriter
) -> ProductOut:
    """Draft a product (institution); publish it to show it in the supermarket."""
    return product_out(service.products.create(session, principal=principal, data=data))


@router.put("/products/{product_id}", response_model=ProductOut)
def update_product(
    product_id: str, data: ProductIn, session: SessionDep, principal: InstitutionWriter
) -> ProductOut:
    """Change a product's terms (its institution)."""
    product = service.products.get_or_raise(session, product_id=product_id)
    return product_out(
        service.products.update(session, principal=principal, product=product, data=data)
    )


def _move(
    session: SessionDep, principal: Principal, product_id: str, transition: str
) -> ProductOut:
    product = service.products.get_or_raise(session, product_id=product_id)
    return product_out(
        service.products.move(session, principal=principal, product=product, transition=transition)
    )


@router.post("/products/{product_id}/publish", response_model=ProductOut)
def publish_product(
    product_id: str, session: SessionDep, principal: InstitutionWriter
) -> ProductOut:
    """Draft or paused → published (an approved, active institution only)."""
    return _move(session, principal, product_id, "publish")


@router.post("/products/{product_id}/pause", response_model=ProductOut)
def pause_product(product_id: str, session: SessionDep, principal: InstitutionWriter) -> ProductOut:
    """Published → paused: hidden from the supermarket, no new applications."""
    return _move(session, principal, product_id, "pause")


@router.post("/products/{product_id}/withdraw", response_model=ProductOut)
def withdraw_product(
    product_id: str, session: SessionDep, principal: InstitutionWriter
) -> ProductOut:
    """Withdraw a product for good."""
    return _move(session, principal, product_id, "withdraw")


# --------------------------------------------------------------------------- rules


def rules_out(rule: object) -> RulesOut:
    return RulesOut.model_validate(rule)


@router.get("/products/{product_id}/rules", response_model=RulesOut)
def read_product_rules(
    product_id: str, session: SessionDep, principal: InstitutionUser
) -> RulesOut:
    """A product's automatic-approval rules (its institution)."""
    product = service.products.get_or_raise(session, product_id=product_id)
    service.products.own_or_raise(principal, product)
    rule = service.rules.get(session, product_id=product.public_id)
    if rule is None:
        raise NotFound("no automatic rules for {product}", field="product_id", product=product_id)
    return rules_out(rule)


@router.put("/products/{product_id}/rules", response_model=RulesOut)
def configure_rules(
    product_id: str, data: RulesIn, session: SessionDep, principal: InstitutionWriter
) -> RulesOut:
    """Set a product's automatic-approval rules: grade threshold, amount caps and rates by
    grade, hard declines. Applications they settle are decided at once."""
    product = service.products.get_or_raise(session, product_id=product_id)
    return rules_out(
        service.rules.configure(session, principal=principal, product=product, data=data)
    )


# --------------------------------------------------------------------------- needs


@router.post("/needs", response_model=NeedOut, status_code=201)
def post_need(data: NeedIn, session: SessionDep, principal: EnterpriseWriter) -> NeedOut:
    """Post a financing need (enterprise)."""
    need = service.matching.post_need(session, principal=principal, data=data)
    service.webhooks.announce_need(session, need=need)
    return need_out(need)


@router.get("/needs", response_model=Page[NeedOut])
def list_needs(session: SessionDep, principal: CurrentUser, paging: PageDep) -> Page[NeedOut]:
    """Your enterprise's needs; the open needs for institutions and the operator; newest
    first."""
    return page_of(session, visibility.needs(principal), paging, need_out)


@router.get("/needs/{need_id}", response_model=NeedOut)
def read_need(need_id: str, session: SessionDep, principal: CurrentUser) -> NeedOut:
    return need_out(
        service.matching.visible_need_or_raise(session, principal=principal, need_id=need_id)
    )


@router.post("/needs/{need_id}/close", response_model=NeedOut)
def close_need(need_id: str, session: SessionDep, principal: EnterpriseWriter) -> NeedOut:
    """Close your need (met or no longer wanted)."""
    need = service.matching.get_need_or_raise(session, need_id=need_id)
    return need_out(service.matching.close_need(session, principal=principal, need=need))


def match_out(match: service.matching.Match) -> MatchOut:
    return MatchOut(
        product=product_out(match.product),
        eligible=match.eligible,
        complete=match.complete,
        score=match.score,
        checks=match.checks,
    )


@router.get("/needs/{need_id}/matches", response_model=Page[MatchOut])
def need_matches(
    need_id: str,
    session: SessionDep,
    principal: CurrentUser,
    paging: PageDep,
    eligible_only: Annotated[bool, Query(description="leave out excluded products")] = False,
) -> Page[MatchOut]:
    """Published products ranked for a need (an institution: its own), each with why it
    matched or was excluded. A rule on non-public data (grade, tax grade) is reported only
    where the access decision allows it (logged); otherwise it is ``passed: null``. The
    ranking is computed over every product, then paged."""
    need = service.matching.visible_need_or_raise(session, principal=principal, need_id=need_id)
    matches = service.matching.matches_for_need(
        session, need=need, reader=principal, channel="api:market.matches"
    )
    shown = [m for m in matches if m.eligible or not eligible_only]
    return page_of_list(shown, paging, match_out)


def need_match_out(row: service.matching.NeedMatch) -> NeedMatchOut:
    return NeedMatchOut(
        need=need_out(row.need),
        product_id=row.match.product.public_id,
        eligible=row.match.eligible,
        complete=row.match.complete,
        score=row.match.score,
        checks=row.match.checks,
    )


@router.get("/institution/matches", response_model=Page[NeedMatchOut])
def institution_matches(
    session: SessionDep,
    principal: InstitutionUser,
    paging: PageDep,
    eligible_only: Annotated[bool, Query()] = True,
) -> Page[NeedMatchOut]:
    """Open needs that match your institution's published products, best first (rules on
    non-public data as in ``/needs/{id}/matches``; ranked over every open need, then paged)."""
    rows = service.matching.needs_for_institution(
        session, reader=principal, eligible_only=eligible_only, channel="api:institution.matches"
    )
    return page_of_list(rows, paging, need_match_out)


# --------------------------------------------------------------------------- webhooks


@router.post("/institution/webhooks", response_model=WebhookSecretOut, status_code=201)
def register_webhook(
    data: WebhookEndpointIn, session: SessionDep, principal: InstitutionWriter, response: Response
) -> WebhookSecretOut:
    """Register an endpoint for ``need.matched`` events. The answer carries the signing
    secret, shown this once: keep it to verify deliveries."""
    endpoint, secret = service.webhooks.register(session, principal=principal, url=data.url)
    response.headers["Cache-Control"] = "no-store"
    return WebhookSecretOut.model_validate(
        {**WebhookEndpointOut.model_validate(endpoint).model_dump(), "secret": secret}
    )


@router.get("/institution/webhooks", response_model=Page[WebhookEndpointOut])
def list_webhooks(
    session: SessionDep, principal: InstitutionUser, paging: PageDep
) -> Page[WebhookEndpointOut]:
    """The institution's endpoints, oldest first (their secrets are never shown again)."""
    stmt = service.webhooks.endpoints_statement(institution_id=principal.organization_public_id)
    return page_of(session, stmt, paging, WebhookEndpointOut.model_validate)


@router.delete("/institution/webhooks/{endpoint_id}", response_model=WebhookEndpointOut)
def deactivate_webhook(
    endpoint_id: str, session: SessionDep, principal: InstitutionWriter
) -> WebhookEndpointOut:
    """Stop sending to an endpoint."""
    endpoint = service.webhooks.deactivate(session, principal=principal, endpoint_id=endpoint_id)
    return WebhookEndpointOut.model_validate(endpoint)


@router.post("/institution/webhooks/{endpoint_id}/rotate-secret", response_model=WebhookSecretOut)
def rotate_webhook_secret(
    endpoint_id: str,
    session: SessionDep,
    principal: InstitutionWriter,
    response: Response,
    data: WebhookRotateIn | None = None,
) -> WebhookSecretOut:
    """A new signing secret, shown this once. The previous one keeps signing beside it for
    the grace period (both signatures in ``webhook-signature``)."""
    endpoint, secret = service.webhooks.rotate_secret(
        session,
        principal=principal,
        endpoint_id=endpoint_id,
        grace_hours=data.grace_hours if data is not None else None,
    )
    response.headers["Cache-Control"] = "no-store"
    return WebhookSecretOut.model_validate(
        {**WebhookEndpointOut.model_validate(endpoint).model_dump(), "secret": secret}
    )


def delivery_out(delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> WebhookDeliveryOut:
    return WebhookDeliveryOut(
        id=delivery.public_id,
        endpoint_id=endpoint.public_id,
        event_type=delivery.event_type,
        state=delivery.state,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_status=delivery.last_status,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
        payload=delivery.payload,
    )


@router.get("/institution/webhooks/deliveries", response_model=Page[WebhookDeliveryOut])
def list_deliveries(
    session: SessionDep, principal: InstitutionUser, paging: PageDep
) -> Page[WebhookDeliveryOut]:
    """The delivery log, newest first: each event, its attempts, the receiver's last answer
    and when it is tried next."""
    stmt = service.webhooks.deliveries_statement(institution_id=principal.organization_public_id)
    return page_of(session, stmt, paging, lambda row: delivery_out(*row))


def delivery_detail(
    session: SessionDep, delivery: WebhookDelivery, endpoint: WebhookEndpoint
) -> WebhookDeliveryDetailOut:
    return WebhookDeliveryDetailOut(
        **delivery_out(delivery, endpoint).model_dump(),
        history=[
            WebhookAttemptOut.model_validate(a)
            for a in service.webhooks.attempts_of(session, delivery=delivery)
        ],
    )


@router.get(
    "/institution/webhooks/deliveries/{delivery_id}", response_model=WebhookDeliveryDetailOut
)
def read_delivery(
    delivery_id: str, session: SessionDep, principal: InstitutionUser
) -> WebhookDeliveryDetailOut:
    """One delivery with every attempt: time, outcome, status or error, next attempt."""
    delivery, endpoint = service.webhooks.own_delivery_or_raise(
        session, principal=principal, delivery_id=delivery_id
    )
    return delivery_detail(session, delivery, endpoint)


@router.post(
    "/institution/webhooks/deliveries/{delivery_id}/redeliver",
    response_model=WebhookDeliveryDetailOut,
    status_code=202,
)
def redeliver_delivery(
    delivery_id: str, session: SessionDep, principal: InstitutionWriter
) -> WebhookDeliveryDetailOut:
    """Queue a new attempt at a delivery now (a delivered or failed one starts a new round
    of retries)."""
    delivery, endpoint = service.webhooks.redeliver(
        session, principal=principal, delivery_id=delivery_id
    )
    return delivery_detail(session, delivery, endpoint)


# --------------------------------------------------------------------------- applications


def application_out(application: Application) -> ApplicationOut:
    return ApplicationOut.model_validate(application)


def application_detail(session: SessionDep, application: Application) -> ApplicationDetailOut:
    rows = service.applications.history(session, application=application)
    return ApplicationDetailOut.model_validate(
        {
            **application_out(application).model_dump(),
            "transitions": [TransitionOut.model_validate(r) for r in rows],
        }
    )


@router.post(
    "/applications",
    response_model=ApplicationDetailOut,
    status_code=201,
    responses={200: {"description": "the same Idempotency-Key: the application made before"}},
)
def submit_application(
    data: ApplicationIn,
    session: SessionDep,
    principal: EnterpriseWriter,
    response: Response,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="repeat safely with the same key")
    ] = None,
) -> ApplicationDetailOut:
    """Apply to a product (enterprise), granting the institution a letter for this
    application; the institution's automatic rules may decide it at once."""
    application, made = service.rules.submit_and_decide(
        session, principal=principal, data=data, idempotency_key=idempotency_key
    )
    if not made:
        response.status_code = 200
    return application_detail(session, application)


@router.get("/applications", response_model=Page[ApplicationOut])
def list_applications(
    session: SessionDep,
    principal: CurrentUser,
    paging: PageDep,
    state: Annotated[str | None, Query(description="only this state")] = None,
) -> Page[ApplicationOut]:
    """Your enterprise's applications; your institution's queue; all for the operator;
    newest first."""
    stmt = visibility.applications(principal, state=state)
    return page_of(session, stmt, paging, application_out)


@router.get("/applications/{application_id}", response_model=ApplicationDetailOut)
def read_application(
    application_id: str, session: SessionDep, principal: CurrentUser
) -> ApplicationDetailOut:
    """One application with every transition: who moved it, when, why."""
    application = service.applications.visible_or_raise(
        session, principal=principal, application_id=application_id
    )
    return application_detail(session, application)


def _act(
    session: SessionDep, principal: Principal, application_id: str, transition: str, note: NoteIn
) -> ApplicationDetailOut:
    application = service.applications.act(
        session,
        principal=principal,
        application_id=application_id,
        transition=transition,
        note=note.note,
    )
    return application_detail(session, application)


@router.post("/applications/{application_id}/accept", response_model=ApplicationDetailOut)
def accept_application(
    application_id: str,
    session: SessionDep,
    principal: InstitutionWriter,
    note: NoteIn | None = None,
) -> ApplicationDetailOut:
    """Submitted → accepted for review (institution)."""
    return _act(session, principal, application_id, "accept", note or NoteIn())


@router.post("/applications/{application_id}/request-info", response_model=ApplicationDetailOut)
def request_information(
    application_id: str, session: SessionDep, principal: InstitutionWriter, note: NoteIn
) -> ApplicationDetailOut:
    """Ask the enterprise for more information (institution; ``note`` says what)."""
    return _act(session, principal, application_id, "request_info", note)


@router.post("/applications/{application_id}/supply-info", response_model=ApplicationDetailOut)
def supply_information(
    application_id: str,
    session: SessionDep,
    principal: EnterpriseWriter,
    note: NoteIn | None = None,
) -> ApplicationDetailOut:
    """The enterprise answers the request; the application is under review again."""
    return _act(session, principal, application_id, "supply_info", note or NoteIn())


@router.post("/applications/{application_id}/withdraw", response_model=ApplicationDetailOut)
def withdraw_application(
    application_id: str,
    session: SessionDep,
    principal: EnterpriseWriter,
    note: NoteIn | None = None,
) -> ApplicationDetailOut:
    """The enterprise withdraws its open application."""
    return _act(session, principal, application_id, "withdraw", note or NoteIn())


@router.post("/applications/{application_id}/decision", response_model=ApplicationDetailOut)
def decide_application(
    application_id: str, data: DecisionIn, session: SessionDep, principal: InstitutionWriter
) -> ApplicationDetailOut:
    """Approve (amount, rate, term within the product's ranges) or reject (with a reason).
    Two decisions at once: one wins, the other gets 409."""
    application = service.applications.decide(
        session,
        principal=principal,
        application_id=application_id,
        outcome=data.outcome,
        amount=data.amount,
        rate=data.rate,
        term=data.term_months,
        reason=data.reason,
    )
    return application_detail(session, application)


@router.get("/applications/{application_id}/report", response_model=ReportOut)
def application_report(
    application_id: str, session: SessionDep, principal: InstitutionUser
) -> ReportOut:
    """The applicant's credit report, through the access decision under the application's
    letter (logged; refused with the reason when the letter no longer allows it)."""
    application = service.applications.visible_or_raise(
        session, principal=principal, application_id=application_id
    )
    decision = enforce(
        session,
        service.applications.report(session, principal=principal, application=application),
    )
    return consent_service.credit_report(session, decision, actor=principal)


@router.get("/market/decision-times", response_model=list[LatencyOut])
def decision_times(session: SessionDep, principal: CurrentUser) -> list[LatencyOut]:
    """Decision time, automatic and manual: median and p95 (your institution; all for the
    operator)."""
    if principal.organization_kind == OrgKind.INSTITUTION:
        scope: str | None = principal.organization_public_id
    elif principal.organization_kind == OrgKind.OPERATOR:
        scope = None
    else:
        raise Forbidden("decision times are for institutions and the operator")
    figures = service.applications.decision_latency(session, institution_id=scope)
    return [LatencyOut(mode=mode, **values) for mode, values in figures.items()]


# --------------------------------------------------------------------------- loans


def loan_out(session: SessionDep, loan: Loan) -> LoanOut:
    days = service.loans.days_overdue(session, loan=loan)
    return LoanOut.model_validate(loan).model_copy(update={"overdue_days": days})


def loan_detail(session: SessionDep, loan: Loan) -> LoanDetailOut:
    return LoanDetailOut.model_validate(
        {
            **loan_out(session, loan).model_dump(),
            "schedule": [
                InstalmentOut.model_validate(i)
                for i in service.loans.instalments_of(session, loan=loan)
            ],
            "repayments": [
                RepaymentOut.model_validate(r)
                for r in service.loans.repayments_of(session, loan=loan)
            ],
            "transitions": [
                TransitionOut.model_validate(t) for t in service.loans.history(session, loan=loan)
            ],
        }
    )


@router.post(
    "/applications/{application_id}/disburse", response_model=LoanDetailOut, status_code=201
)
def disburse_application(
    application_id: str,
    session: SessionDep,
    principal: InstitutionWriter,
    data: DisburseIn | None = None,
) -> LoanDetailOut:
    """Pay out an approved application: the loan, its contract number and its schedule."""
    body = data or DisburseIn()
    loan = service.loans.disburse(
        session,
        principal=principal,
        application_id=application_id,
        start_on=body.start_on,
        contract=body.contract_number,
    )
    return loan_detail(session, loan)


@router.get("/loans", response_model=Page[LoanOut])
def list_loans(
    session: SessionDep,
    principal: CurrentUser,
    paging: PageDep,
    state: Annotated[str | None, Query(description="current, overdue, repaid, ...")] = None,
) -> Page[LoanOut]:
    """Your enterprise's loans; your institution's loan book; all for the operator; latest
    start first."""
    stmt = visibility.loans(principal, state=state)
    return page_of(session, stmt, paging, lambda loan: loan_out(session, loan))


@router.get(
    "/institution/loan-book",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
)
def export_loan_book(
    session: SessionDep,
    principal: InstitutionUser,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
    state: Annotated[str | None, Query()] = None,
) -> Response:
    """Your institution's loan book as CSV or Excel."""
    loans = list(session.scalars(visibility.loans(principal, state=state)))
    day = clock.today().isoformat()
    if format == "xlsx":
        return Response(
            service.loans.book_xlsx(session, loans),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="loan-book-{day}.xlsx"'},
        )
    return Response(
        service.loans.book_csv(session, loans),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="loan-book-{day}.csv"'},
    )


@router.get("/loans/{loan_id}", response_model=LoanDetailOut)
def read_loan(loan_id: str, session: SessionDep, principal: CurrentUser) -> LoanDetailOut:
    """One loan: its schedule, repayments, transitions and days overdue."""
    return loan_detail(
        session, service.loans.visible_or_raise(session, principal=principal, loan_id=loan_id)
    )


@router.post("/loans/{loan_id}/repayments", response_model=LoanDetailOut, status_code=201)
def record_repayment(
    loan_id: str, data: RepaymentIn, session: SessionDep, principal: InstitutionWriter
) -> LoanDetailOut:
    """Record a repayment (the lender): interest then principal, oldest instalment first."""
    service.loans.repay(
        session, principal=principal, loan_id=loan_id, amount=data.amount, paid_on=data.paid_on
    )
    return loan_detail(session, service.loans.get_or_raise(session, loan_id=loan_id))


@router.post("/loans/{loan_id}/default", response_model=LoanDetailOut)
def default_loan(
    loan_id: str, data: ReasonIn, session: SessionDep, principal: InstitutionWriter
) -> LoanDetailOut:
    """Declare an overdue loan defaulted (the lender, with a reason)."""
    loan = service.loans.declare(
        session, principal=principal, loan_id=loan_id, transition="default", reason=data.reason
    )
    return loan_detail(session, loan)


@router.post("/loans/{loan_id}/write-off", response_model=LoanDetailOut)
def write_off_loan(
    loan_id: str, data: ReasonIn, session: SessionDep, principal: InstitutionWriter
) -> LoanDetailOut:
    """Write off a defaulted loan (the lender, with a reason)."""
    loan = service.loans.declare(
        session, principal=principal, loan_id=loan_id, transition="write_off", reason=data.reason
    )
    return loan_detail(session, loan)

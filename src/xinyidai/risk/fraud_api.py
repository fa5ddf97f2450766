"""JSON API of the anti-fraud rules and cases, under ``/api/v1/risk/fraud``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.pagination import Page, page_of
from xinyidai.iam.auth import CurrentUser, OperatorUser, OperatorWriter, require_roles
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.risk.schemas_fraud import (
    CaseActionIn,
    CaseDetailOut,
    CaseOut,
    NoteIn,
    OverviewOut,
    RuleOut,
    ScanIn,
    ScanOut,
)
from xinyidai.risk.service import blacklist, fraud, fraud_cases

router = APIRouter(tags=["risk"], responses=ERROR_RESPONSES)

InstitutionWriter = Annotated[Principal, Depends(require_roles(OrgKind.INSTITUTION, write=True))]


def scan_out(result: fraud.Scan) -> ScanOut:
    return ScanOut(
        application_id=result.application_id,
        hits=result.hits,
        case_id=result.case_id,
        skipped=result.skipped,
        marked=result.marked,
    )


@router.get("/fraud/rules", response_model=list[RuleOut])
def list_rules(principal: CurrentUser) -> list[RuleOut]:
    """The anti-fraud rules: whether each runs, its thresholds and window, its explanation."""
    return [
        RuleOut(
            rule=name,
            enabled=bool(config.get("enabled", True)),
            settings={k: v for k, v in config.items() if k not in {"enabled", "explanation"}},
            explanation=str(config["explanation"]),
        )
        for name, config in fraud.rules_config().items()
    ]


@router.get("/fraud/cases", response_model=Page[CaseOut])
def list_cases(
    session: SessionDep,
    principal: CurrentUser,
    paging: PageDep,
    state: Annotated[str | None, Query(description="only this state")] = None,
    rule: Annotated[str | None, Query(description="only cases this rule hit")] = None,
    credit_code: Annotated[str | None, Query(description="only this enterprise")] = None,
    institution_id: Annotated[str | None, Query(description="operator: one institution")] = None,
) -> Page[CaseOut]:
    """Fraud cases, newest first: your institution's; every one for the operator."""
    stmt = fraud_cases.cases_statement(
        principal,
        state=state,
        rule=rule,
        credit_code=credit_code,
        institution_id=institution_id,
    )
    return page_of(session, stmt, paging, CaseOut.model_validate)


@router.get("/fraud/cases/{case_id}", response_model=CaseDetailOut)
def read_case(case_id: str, session: SessionDep, principal: CurrentUser) -> CaseDetailOut:
    """One case: each hit with its explanation, the notes and the history."""
    case = fraud_cases.visible_or_raise(session, principal=principal, case_id=case_id)
    return fraud_cases.detail(session, principal=principal, case=case)


@router.post("/fraud/cases/{case_id}/notes", response_model=CaseDetailOut, status_code=201)
def add_note(
    case_id: str, data: NoteIn, session: SessionDep, principal: InstitutionWriter
) -> CaseDetailOut:
    """Add a note to your institution's case."""
    case = fraud_cases.visible_or_raise(session, principal=principal, case_id=case_id, lock=True)
    fraud_cases.add_note(session, principal=principal, case=case, text=data.text)
    return fraud_cases.detail(session, principal=principal, case=case)


@router.post("/fraud/cases/{case_id}/{action}", response_model=CaseDetailOut)
def act_on_case(
    case_id: str,
    action: str,
    session: SessionDep,
    principal: InstitutionWriter,
    data: CaseActionIn | None = None,
) -> CaseDetailOut:
    """Move your institution's case: ``investigate``, ``confirm`` or ``dismiss`` (the last
    two with a note)."""
    case = fraud_cases.visible_or_raise(session, principal=principal, case_id=case_id, lock=True)
    fraud_cases.act(
        session, principal=principal, case=case, action=action, note=(data or CaseActionIn()).note
    )
    return fraud_cases.detail(session, principal=principal, case=case)


@router.post("/fraud/scan", response_model=list[ScanOut])
def scan(data: ScanIn, session: SessionDep, principal: OperatorWriter) -> list[ScanOut]:
    """Run the rules now over one application, or over every one not scanned yet."""
    if data.application_id:
        return [scan_out(fraud.scan(session, application_id=data.application_id))]
    return [scan_out(r) for r in fraud.scan_pending(session, rescan=data.rescan)]


@router.get("/fraud/overview", response_model=OverviewOut)
def overview(session: SessionDep, principal: OperatorUser) -> OverviewOut:
    """The operator's overview: cases by state, hits by rule, listings by state."""
    return OverviewOut(
        cases=fraud_cases.counts(session),
        hits_by_rule=fraud_cases.rule_counts(session),
        listings=blacklist.counts(session),
    )

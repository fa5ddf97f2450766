"""HTTP routes of privacy: the desensitization rules, the grading of the catalogue,
verification answers ("usable but invisible": whether a fact holds, yes or no, without
the record), and the public registry directory.

The directory is served here rather than by ``registry`` because what it may show is the
grading's answer: each registry fact is shown as the registration category's public view
shows that field (``service.registry_facts``), the same rule as every other view of it.
Anonymous reads are limited per client address (signed-in callers get a higher limit) and
each anonymous read is written to the application log (logger ``xinyidai.directory``), not
to the audit trail: the facts are public, and bulk paging stays visible to the operator
without a ledger leaf per page.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from xinyidai.consent import service as consent_service
from xinyidai.consent.api import enforce
from xinyidai.consent.schemas import VERIFICATION
from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.errors import Forbidden, TooManyRequests
from xinyidai.core.logs import pseudonym
from xinyidai.core.pagination import Page, page_of
from xinyidai.core.ratelimit import RateLimits
from xinyidai.core.settings import get_settings
from xinyidai.iam.auth import (
    CurrentPrincipal,
    CurrentUser,
    client_ip,
    optional_principal,
    require_roles,
)
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.privacy import service
from xinyidai.privacy.schemas import CategoryGrade, DirectoryEntryOut, VerifyIn, VerifyOut
from xinyidai.records import service as records_service
from xinyidai.registry import service as registry_service

router = APIRouter(responses=ERROR_RESPONSES)

directory_log = logging.getLogger("xinyidai.directory")
DIRECTORY = "registry.directory"


@router.get("/privacy/rules", tags=["privacy"])
def read_rules(principal: CurrentUser) -> dict[str, Any]:
    """The desensitization rules in force, exactly as configured (every member may read them)."""
    return service.rules_document()


@router.get("/privacy/grades", response_model=list[CategoryGrade], tags=["privacy"])
def read_grades(session: SessionDep, principal: CurrentUser) -> list[CategoryGrade]:
    """Every category's classification and grade, field by field, with the rule each field gets."""
    return service.grading(session)


# --------------------------------------------------------------------------- verification


@router.post("/verify", response_model=VerifyOut, tags=["verify"])
def verify_fact(data: VerifyIn, session: SessionDep, principal: CurrentPrincipal) -> VerifyOut:
    """Ask whether a fact holds ("tax grade is A", "no enforcement record"): yes or no only.

    The question goes through the access decision with the purpose ``verification``: public
    categories are answered for anyone, others need a letter for verification (or the
    operator's duty, or the department's own category). Every question is logged.
    """
    if principal.organization_kind not in (
        OrgKind.PROVIDER,
        OrgKind.INSTITUTION,
        OrgKind.OPERATOR,
        OrgKind.PLATFORM,
    ):
        raise Forbidden("your organization may not do this")
    code = registry_service.parse_code_or_raise(data.credit_code)
    decision = consent_service.decide(
        session,
        actor=principal,
        subject=code,
        categories=[data.category],
        purpose=VERIFICATION,
        letter_id=data.letter_id,
        channel="api:verify",
    )
    enforce(session, decision)
    holds = records_service.verify(
        session,
        credit_code=code,
        category=data.category,
        op=data.op,
        field=data.field,
        value=data.value,
    )
    return VerifyOut(
        credit_code=code, category=data.category, op=data.op, field=data.field, holds=holds
    )


# --------------------------------------------------------------------------- directory


def directory_reader(
    request: Request,
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal | None:
    """The caller of a directory route, counted against its limit: per client address when
    anonymous, per user or key when signed in; 429 with ``Retry-After`` past it."""
    settings = get_settings()
    if principal is None:
        limit, caller = settings.privacy.directory_rate_limit, f"address:{client_ip(request)}"
    else:
        limit, caller = settings.privacy.directory_rate_limit_signed_in, principal.actor
    limits: RateLimits = request.app.state.rate_limits
    wait = limits.hit(limit, DIRECTORY, caller)
    if wait is not None:
        directory_log.warning("directory limit %s reached by %s", limit, pseudonym(caller))
        raise TooManyRequests(
            "too many requests; try again in {seconds} seconds", retry_after=wait, seconds=wait
        )
    return principal


DirectoryReader = Annotated[Principal | None, Depends(directory_reader)]


@router.get("/registry/enterprises", response_model=Page[DirectoryEntryOut], tags=["registry"])
def search_enterprises(
    request: Request,
    session: SessionDep,
    paging: PageDep,
    reader: DirectoryReader,
    q: Annotated[
        str | None, Query(description="part of the name, or the start of the code")
    ] = None,
    region: Annotated[str | None, Query(description="GB/T 2260 code (prefix match)")] = None,
    industry: Annotated[str | None, Query(description="GB/T 4754 code")] = None,
) -> Page[DirectoryEntryOut]:
    """Registration facts of credit subjects as the public may see them (the grading's public
    view of the registration category), paged; rate-limited. The one registry search: the
    operator searches here too."""
    stmt = registry_service.search_statement(q=q, region=region, industry=industry)
    found = page_of(
        session, stmt, paging, items=lambda rows: service.directory_entries(session, rows)
    )
    if reader is None:
        # Who searched for what is personal: the address and the text go as pseudonyms (the
        # same caller and the same text read alike across lines, neither can be read back).
        directory_log.info(
            "anonymous directory page: address=%s q=%s region=%s industry=%s page=%d size=%d "
            "total=%d",
            pseudonym(client_ip(request)),
            pseudonym(q),
            region,
            industry,
            paging.page,
            paging.size,
            found.total,
        )
    return found


# The path the operator's search had before it became the directory's: the same search and
# answer, kept for the operator alone (its old audience) while clients move.
router.add_api_route(
    "/enterprises",
    search_enterprises,
    methods=["GET"],
    response_model=Page[DirectoryEntryOut],
    dependencies=[Depends(require_roles(OrgKind.OPERATOR))],
    deprecated=True,
    tags=["registry"],
    summary="Search the registry directory (old path: use /registry/enterprises)",
    operation_id="searchEnterprisesOldPath",
)


@router.get("/registry/enterprises/{code}", response_model=DirectoryEntryOut, tags=["registry"])
def get_enterprise(
    code: str, request: Request, session: SessionDep, reader: DirectoryReader
) -> DirectoryEntryOut:
    """Registration facts of one credit subject as the public may see them; rate-limited."""
    subject = registry_service.get_by_code_or_raise(session, credit_code=code)
    if reader is None:
        directory_log.info(
            "anonymous directory lookup: address=%s code=%s",
            pseudonym(client_ip(request)),
            pseudonym(code),
        )
    (entry,) = service.directory_entries(session, [subject])
    return entry

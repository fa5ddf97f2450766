"""Business logic of the registry: find, create and search credit subjects."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from xinyidai.core.db import (
    insert_missing,
    lookup_chunks,
    missing_keys,
    read_frame,
    upsert_rows,
)
from xinyidai.core.errors import Conflict, NotFound, ValidationFailed
from xinyidai.core.i18n import gettext
from xinyidai.core.pagination import paginate
from xinyidai.registry import codes, creditcode
from xinyidai.registry.models import Enterprise, SubjectKind, SubjectStatus
from xinyidai.registry.schemas import CreditCodeCheck, EnterpriseIn

if TYPE_CHECKING:
    import polars as pl


def parse_code_or_raise(raw: str, *, field: str = "credit_code") -> str:
    """The normalized code, or a ``ValidationFailed`` naming ``field`` and the reason."""
    try:
        return creditcode.parse(raw).code
    except creditcode.CreditCodeError as exc:
        raise ValidationFailed(exc.reason, field=field, **exc.params) from exc


def kind_of(code: str) -> str:
    """The kind of subject a credit code's first two characters say it is."""
    return {
        "91": SubjectKind.ENTERPRISE,
        "92": SubjectKind.INDIVIDUAL,
        "93": SubjectKind.COOPERATIVE,
    }.get(code[:2], SubjectKind.OTHER)


def check_code(*, raw: str, locale: str = "en") -> CreditCodeCheck:
    """Explain whether ``raw`` is a valid code and what its parts say; why not in
    ``locale``."""
    try:
        parsed = creditcode.parse(raw)
    except creditcode.CreditCodeError as exc:
        reason = gettext(exc.reason, locale, **exc.params)
        return CreditCodeCheck(code=creditcode.normalize(str(raw)), valid=False, reason=reason)
    region = codes.region(parsed.region_code)
    return CreditCodeCheck(
        code=parsed.code,
        valid=True,
        authority=creditcode.AUTHORITIES[parsed.authority][0],
        organization_type=creditcode.AUTHORITIES[parsed.authority][1][parsed.organization_type],
        region_code=parsed.region_code,
        region_name=region.name if region else None,
        check_character=parsed.code[17],
    )


def get_by_code(session: Session, *, credit_code: str) -> Enterprise | None:
    """The subject with this code, or None."""
    return session.scalar(select(Enterprise).where(Enterprise.credit_code == credit_code))


def get_by_code_or_raise(session: Session, *, credit_code: str) -> Enterprise:
    """The subject with this code; ``NotFound`` naming the code otherwise."""
    code = parse_code_or_raise(credit_code)
    enterprise = get_by_code(session, credit_code=code)
    if enterprise is None:
        raise NotFound(
            "no credit subject with code {credit_code}", field="credit_code", credit_code=code
        )
    return enterprise


def get_many_by_code(session: Session, *, credit_codes: Iterable[str]) -> dict[str, Enterprise]:
    """Subjects by code, for the codes that exist."""
    wanted = list(set(credit_codes))
    found: dict[str, Enterprise] = {}
    for condition in lookup_chunks(session, Enterprise.credit_code, wanted):
        for row in session.scalars(select(Enterprise).where(condition)):
            found[row.credit_code] = row
    return found


def subjects_frame(
    session: Session,
    *,
    credit_codes: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Subjects in bulk, as columns: ``credit_code``, ``kind``, ``status``,
    ``established_on`` and ``registered_capital`` (a float, for statistics).

    Every subject, or those of ``credit_codes``; ``statuses`` narrows it. Set-based: one
    statement (COPY on PostgreSQL), or one per chunk of codes.
    """
    import polars as pl

    schema: dict[str, Any] = {
        "credit_code": pl.String,
        "kind": pl.String,
        "status": pl.String,
        "established_on": pl.Date,
        "registered_capital": pl.Float64,
    }
    statement = select(
        Enterprise.credit_code,
        Enterprise.kind,
        Enterprise.status,
        Enterprise.established_on,
        Enterprise.registered_capital,
    )
    if statuses is not None:
        statement = statement.where(Enterprise.status.in_(list(statuses)))
    if credit_codes is None:
        return read_frame(session, statement, schema)
    parts = [
        read_frame(session, statement.where(condition), schema, copy=False)
        for condition in lookup_chunks(session, Enterprise.credit_code, list(credit_codes))
    ]
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def create(
    session: Session, *, data: EnterpriseIn, status: str = SubjectStatus.ACTIVE
) -> Enterprise:
    """Register a new subject; ``Conflict`` when the code is already registered."""
    if get_by_code(session, credit_code=data.credit_code) is not None:
        raise Conflict(
            "credit code {credit_code} is already registered",
            field="credit_code",
            credit_code=data.credit_code,
        )
    enterprise = Enterprise(
        **data.model_dump(exclude={"kind"}),
        kind=data.kind or kind_of(data.credit_code),
        status=status,
    )
    session.add(enterprise)
    session.flush()
    return enterprise


def upsert(session: Session, *, data: EnterpriseIn) -> tuple[Enterprise, bool]:
    """Create the subject or update the fields given; returns (subject, created)."""
    existing = get_by_code(session, credit_code=data.credit_code)
    if existing is None:
        return create(session, data=data), True
    for field, value in data.model_dump(exclude_unset=True, exclude={"credit_code"}).items():
        if value is not None:
            setattr(existing, field, value)
    session.flush()
    return existing, False


def search_statement(
    *, q: str | None = None, region: str | None = None, industry: str | None = None
) -> Any:
    """The query behind every enterprise list: by name or code, region prefix, industry."""
    stmt = select(Enterprise).order_by(Enterprise.credit_code)
    if q:
        text = q.strip()
        stmt = stmt.where(
            or_(Enterprise.name.contains(text), Enterprise.credit_code.startswith(text.upper()))
        )
    if region:
        # 640000 → province 64, 640100 → prefecture 6401, else the exact county (500110).
        prefix = region
        if len(region) == 6 and region.endswith("0000"):
            prefix = region[:2]
        elif len(region) == 6 and region.endswith("00"):
            prefix = region[:4]
        stmt = stmt.where(Enterprise.region_code.startswith(prefix))
    if industry:
        stmt = stmt.where(Enterprise.industry_code == industry.upper())
    return stmt


def search(
    session: Session,
    *,
    q: str | None = None,
    region: str | None = None,
    industry: str | None = None,
    page: int = 1,
    size: int = 20,
) -> tuple[Sequence[Enterprise], int]:
    """One page of subjects matching the filters, and the total."""
    return paginate(
        session, search_statement(q=q, region=region, industry=industry), page=page, size=size
    )


def count(session: Session) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(Enterprise)) or 0)


REGISTRATION_FIELDS = (
    "name",
    "region_code",
    "industry_code",
    "legal_representative",
    "registered_capital",
    "established_on",
    "address",
)


def sync_subjects(
    session: Session,
    *,
    registrations: Sequence[dict[str, Any]] = (),
    mentions: dict[str, str] | None = None,
) -> dict[str, int]:
    """Keep the registry in step with what departments send, in bulk.

    ``registrations`` are registration facts (the market regulator's master data): they
    create subjects or update their registered fields. ``mentions`` (code → name) are
    subjects other categories speak of; an unknown one is created pending verification, so
    no record points at a subject the registry does not know.
    """
    wanted = list({row["credit_code"] for row in registrations} | set(mentions or {}))
    table = cast(Table, Enterprise.__table__)
    existing: dict[str, tuple[Any, ...]] = {}
    if registrations:  # registrations compare their fields with what is registered
        columns = (table.c.credit_code, table.c.status, *(table.c[n] for n in REGISTRATION_FIELDS))
        for condition in lookup_chunks(session, Enterprise.credit_code, wanted):
            for found in session.execute(select(*columns).where(condition)):
                existing[found[0]] = tuple(found)
        unknown = set(wanted) - set(existing)
    else:  # mentions need only to know which subjects are new
        unknown = missing_keys(session, Enterprise.credit_code, wanted)
    created: dict[str, dict[str, Any]] = {}
    changes: list[dict[str, Any]] = []
    for row in registrations:
        code = row["credit_code"]
        current = existing.get(code)
        if current is None:
            created[code] = {
                "credit_code": code,
                "kind": kind_of(code),
                "status": SubjectStatus.ACTIVE,
                **{name: row.get(name) for name in REGISTRATION_FIELDS},
            }
            continue
        values = dict(zip(REGISTRATION_FIELDS, current[2:], strict=True))  # registered fields
        fresh = {n: row[n] for n in REGISTRATION_FIELDS if row.get(n) is not None}
        if current[1] != SubjectStatus.PENDING and all(values[n] == v for n, v in fresh.items()):
            continue
        changes.append({"code": code, **values, **fresh, "status": SubjectStatus.ACTIVE})
    if changes:
        statement = (
            update(table)
            .where(table.c.credit_code == bindparam("code"))
            .values({n: bindparam(n) for n in (*REGISTRATION_FIELDS, "status")})
        )
        session.execute(statement, changes)
    updated = len(changes)
    for code, name in (mentions or {}).items():
        if code in unknown and code not in created:
            created[code] = {
                "credit_code": code,
                "kind": kind_of(code),
                "status": SubjectStatus.PENDING,
                "name": name,
                "region_code": code[2:8] if codes.is_region(code[2:8]) else None,
            }
    if created:
        from xinyidai.core import clock

        now = clock.now()
        rows = [
            {name: None for name in REGISTRATION_FIELDS}
            | row
            | {"created_at": now, "updated_at": now}
            for row in created.values()
        ]
        session.flush()
        # Files are ingested side by side: another may just have added a subject this one
        # found missing. A registration then completes it (a field it leaves blank keeps what
        # is there); a mere mention leaves it as it is.
        upsert_rows(
            session,
            Enterprise.__table__,
            [r for r in rows if r["status"] != SubjectStatus.PENDING],
            key="credit_code",
            update=(*REGISTRATION_FIELDS, "status", "updated_at"),
            keep=REGISTRATION_FIELDS,
        )
        insert_missing(
            session,
            Enterprise.__table__,
            [r for r in rows if r["status"] == SubjectStatus.PENDING],
            key="credit_code",
        )
    session.flush()
    return {"created": len(created), "updated": updated}

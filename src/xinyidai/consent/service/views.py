"""Applying a decision to records: the only way records leave the data center.

``records_for`` reads the records a decision grants, keeps those the grant covers (a
letter's data range, a department's own records) and shows each field as its view says.
``credit_report`` and ``records_csv`` are built on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from xinyidai.consent.schemas import (
    BASIS_OPERATOR,
    BASIS_PROVIDER,
    BASIS_SELF,
    CategoryGrant,
    Decision,
    FieldViewOut,
    ReportOut,
    ReportRecord,
    ReportSection,
)
from xinyidai.consent.service.decision import refusal
from xinyidai.core import clock, exports
from xinyidai.iam.schemas import Principal
from xinyidai.privacy import service as privacy
from xinyidai.privacy.schemas import CategoryView
from xinyidai.records import service as records_service
from xinyidai.records.schemas import CategoryRecords, RecordOut
from xinyidai.registry import service as registry_service
from xinyidai.registry.models import Enterprise

# Bases that may also read earlier versions of a record.
HISTORY_BASES = frozenset({BASIS_SELF, BASIS_OPERATOR, BASIS_PROVIDER})


def field_views(view: CategoryView) -> dict[str, FieldViewOut]:
    """A category's field views as the API shows them."""
    return {name: FieldViewOut(**fv.as_dict()) for name, fv in view.fields.items()}


def _in_range(day: date | None, grant: CategoryGrant) -> bool:
    """Undated facts (a registration, a rating) are in every range; dated ones must fit."""
    if day is None:
        return True
    if grant.data_from and day < grant.data_from:
        return False
    return not (grant.data_until and day > grant.data_until)


def _shown(record: RecordOut, grant: CategoryGrant) -> RecordOut | None:
    if grant.provider and record.provider != grant.provider:
        return None
    if not _in_range(record.event_on, grant):
        return None
    history = None
    if record.history is not None and grant.basis in HISTORY_BASES:
        history = [
            v.model_copy(update={"data": privacy.show(v.data, grant.view)})
            for v in record.history
            if not grant.provider or v.provider == grant.provider
        ]
    return record.model_copy(
        update={"data": privacy.show(record.data, grant.view), "history": history}
    )


def apply(decision: Decision, groups: list[CategoryRecords]) -> list[CategoryRecords]:
    """Records as a decision lets them be seen: granted categories only, each field viewed."""
    if not decision.allowed:
        raise refusal(decision)
    shown: list[CategoryRecords] = []
    for group in groups:
        grant = decision.grants.get(group.category)
        if grant is None:
            continue
        records = [r for r in (_shown(record, grant) for record in group.records) if r]
        if records or group.hidden_expired:
            shown.append(group.model_copy(update={"records": records}))
    return shown


def records_for(
    session: Session, decision: Decision, *, with_history: bool = False
) -> list[CategoryRecords]:
    """The subject's current records the decision grants, each field as its view says.

    A record version shown in full (every field raw) comes with what lets the reader check
    it is in the ledger (its salt, commitment and leaf index); one shown masked or in part
    comes without: its salt would let the reader test guesses of what was hidden.
    """
    if not decision.allowed:
        raise refusal(decision)
    groups = records_service.records_of(
        session,
        subject_code=decision.subject,
        categories=list(decision.grants),
        with_history=with_history,
    )
    stored = {
        (record.id, version.version): version.data
        for group in groups
        for record in group.records
        for version in record.history or []
    }
    stored |= {(r.id, r.version): r.data for group in groups for r in group.records}
    return _with_ledger_proofs(session, decision.subject, apply(decision, groups), stored)


def _with_ledger_proofs(
    session: Session,
    subject: str,
    groups: list[CategoryRecords],
    stored: dict[tuple[str, int], dict[str, Any]],
) -> list[CategoryRecords]:
    """Attach ledger proofs to the versions shown exactly as stored."""
    whole: list[tuple[str, int]] = []
    for group in groups:
        for record in group.records:
            if stored.get((record.id, record.version)) == record.data:
                whole.append((record.id, record.version))
            for version in record.history or []:
                if stored.get((record.id, version.version)) == version.data:
                    whole.append((record.id, version.version))
    proofs = records_service.ledger_proofs(session, subject_code=subject, versions=whole)
    if not proofs:
        return groups
    shown: list[CategoryRecords] = []
    for group in groups:
        records = []
        for record in group.records:
            history = record.history
            if history is not None:
                history = [
                    v.model_copy(update={"ledger": proofs.get((record.id, v.version))})
                    for v in history
                ]
            records.append(
                record.model_copy(
                    update={"ledger": proofs.get((record.id, record.version)), "history": history}
                )
            )
        shown.append(group.model_copy(update={"records": records}))
    return shown


def report_number(decision: Decision) -> str:
    """A report's number: the day in China and the access event it was made under."""
    return f"XYD-{clock.today():%Y%m%d}-{decision.event_id.rsplit('_', 1)[-1][-10:].upper()}"


def credit_report(
    session: Session, decision: Decision, *, actor: Principal, subject: Enterprise | None = None
) -> ReportOut:
    """The credit report of the records ``decision`` grants, desensitized field by field.

    ``subject``: the enterprise as the caller already loaded it (read again otherwise).
    """
    groups = {g.category: g for g in records_for(session, decision)}
    if subject is None or subject.credit_code != decision.subject:
        subject = registry_service.get_by_code_or_raise(session, credit_code=decision.subject)
    sections: list[ReportSection] = []
    for code, grant in decision.grants.items():
        group = groups.get(code)
        if group is None:
            continue
        sections.append(
            ReportSection(
                category=code,
                name_zh=group.name_zh,
                name_en=group.name_en,
                level=grant.view.level,
                basis=grant.basis,
                letter_id=grant.letter_id,
                fields=field_views(grant.view),
                records=[
                    ReportRecord(
                        id=r.id,
                        event_on=r.event_on,
                        version=r.version,
                        updated_at=r.updated_at,
                        data=r.data,
                        provider=r.provider,
                        ledger=r.ledger,
                        marks=r.marks,
                    )
                    for r in group.records
                ],
                hidden_expired=group.hidden_expired,
            )
        )
    sections.sort(key=lambda s: s.category)
    return ReportOut(
        report_number=report_number(decision),
        credit_code=subject.credit_code,
        name=subject.name,
        generated_at=clock.now(),
        requested_by=actor.actor,
        organization=actor.organization_name,
        purpose=decision.purpose,
        basis=decision.basis,
        letter_id=decision.letter_id,
        retain_until=decision.retain_until,
        access_event=decision.event_id,
        sections=sections,
        withheld=decision.withheld,
        notes=records_service.notes_of(session, subject_code=subject.credit_code),
    )


# A record's marks (an objection in progress) as lines of their own: field ``_mark``.
MARK_FIELD = "_mark"
CSV_COLUMNS = ("category", "record_id", "event_on", "version", "updated_at", "field", "value")


def records_csv(groups: list[CategoryRecords]) -> Iterator[str]:
    """Records already viewed through a decision as CSV: one line per field of each record."""
    rows = (
        [
            group.category,
            record.id,
            record.event_on.isoformat() if record.event_on else None,
            record.version,
            clock.as_utc(record.updated_at).isoformat(),
            name,
            value,
        ]
        for group in groups
        for record in group.records
        for name, value in [*record.data.items(), *((MARK_FIELD, m) for m in record.marks)]
    )
    return exports.csv_lines(CSV_COLUMNS, rows)

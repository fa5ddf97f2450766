"""Record versions in the ledger: who may find which leaves, the commitment each version's
leaf carries, the proofs an entitled reader is given, and the bodies a check re-hashes."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.records.facts import code, put, rating
from xinyidai.core.errors import Forbidden
from xinyidai.ledger import keys
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.models import LedgerEntry
from xinyidai.ledger.verify import verify_ledger
from xinyidai.records import service as records
from xinyidai.records.models import CreditRecord


@pytest.fixture
def stored(session: Session) -> None:
    """Subject 1 rated B then A by the tax department; subject 2 rated C."""
    put(session, "tax_rating", [rating(1, "B")])
    put(session, "tax_rating", [rating(1, "A")])
    put(session, "tax_rating", [rating(2, "C")])
    session.commit()


def test_an_enterprise_finds_its_records_leaves_and_a_department_those_it_sent() -> None:
    assert records.ledger_actor("tax") == "provider:tax"
    assert records.ledger_party(
        organization_kind="enterprise", credit_code=code(1), organization_code=None
    ) == ("subject", code(1))
    assert records.ledger_party(
        organization_kind="provider", credit_code=None, organization_code="tax"
    ) == ("actor", "provider:tax")
    for kind, credit_code, organization_code in (
        ("institution", None, "bank"),
        ("enterprise", None, None),
        ("provider", None, None),
    ):
        with pytest.raises(Forbidden) as refused:
            records.ledger_party(
                organization_kind=kind,
                credit_code=credit_code,
                organization_code=organization_code,
            )
        assert refused.value.field == "organization"


def test_each_current_version_names_the_commitment_its_leaf_carries(
    session: Session, stored: None
) -> None:
    ((rid, version, commitment, event_on),) = records.current_versions(
        session, credit_code=code(1), category="tax_rating"
    )
    row = session.get(CreditRecord, (rid, "tax_rating"))
    assert row is not None
    assert (version, event_on) == (2, None)
    assert commitment != row.digest  # salted: not the data's digest
    leaves = {bytes(e.digest).hex() for e in session.scalars(select(LedgerEntry))}
    assert commitment in leaves
    assert records.current_versions(session, credit_code=code(3), category="tax_rating") == []


def test_proofs_are_given_for_the_subjects_own_versions_only(
    session: Session, stored: None
) -> None:
    (one,) = records.current_versions(session, credit_code=code(1), category="tax_rating")
    (two,) = records.current_versions(session, credit_code=code(2), category="tax_rating")
    asked = [(one[0], 2), (one[0], 1), (two[0], 1), (one[0], 7)]
    proofs = records.ledger_proofs(session, subject_code=code(1), versions=asked)
    assert set(proofs) == {(one[0], 2), (one[0], 1)}
    current, past = proofs[(one[0], 2)], proofs[(one[0], 1)]
    assert current.commitment == one[2]
    assert current.format == past.format == ledger_service.FORMAT_2
    assert current.salt is not None
    assert past.salt is not None
    assert current.salt != past.salt
    assert current.digest == records.data_digest(rating(1, "A"))
    assert past.digest == records.data_digest(rating(1, "B"))
    assert current.index is None  # not sequenced yet
    ledger_service.integrate(session)
    session.commit()
    sequenced = records.ledger_proofs(session, subject_code=code(1), versions=asked)
    assert {p.index for p in sequenced.values()} <= set(range(4))
    assert None not in {p.index for p in sequenced.values()}
    assert records.ledger_proofs(session, subject_code=code(1), versions=[]) == {}


def test_the_commitment_of_a_version_as_shown_is_recomputed_from_what_was_shown(
    session: Session, stored: None
) -> None:
    (one,) = records.current_versions(session, credit_code=code(1), category="tax_rating")
    proof = records.ledger_proofs(session, subject_code=code(1), versions=[(one[0], 2)])
    shown = {
        "id": one[0],
        "version": 2,
        "provider": "tax",
        "data": rating(1, "A"),
        "ledger": {"salt": proof[(one[0], 2)].salt},
    }
    assert records.shown_commitment(credit_code=code(1), record=shown) == one[2]
    altered = shown | {"data": rating(1, "C")}
    assert records.shown_commitment(credit_code=code(1), record=altered) != one[2]


def test_a_version_edited_behind_the_ledger_is_named_by_the_check(
    session: Session, stored: None
) -> None:
    keys.create_key()
    ledger_service.integrate(session)
    ledger_service.publish_checkpoint(session)
    session.commit()
    report = verify_ledger(session)
    assert report.ok, report.problems
    assert report.sources[records.LEDGER_KIND] == 3  # two current versions, one past
    (two,) = records.current_versions(session, credit_code=code(2), category="tax_rating")
    session.execute(
        update(CreditRecord).where(CreditRecord.id == two[0]).values(data=rating(2, "A"))
    )
    session.commit()
    report = verify_ledger(session)
    assert not report.ok
    assert any(f"{two[0]}:1" in problem.what for problem in report.problems)

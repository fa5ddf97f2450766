"""Alignment over the API: an institution's customers meet the center's enterprises whose
letters allow ``joint_modelling`` to it; both hold the intersection and nothing else; the
alignment is a salted ledger leaf with sizes only; bad input names the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from tests.consent.world import World, grant
from xinyidai.core.errors import ValidationFailed
from xinyidai.joint import client as joint_client
from xinyidai.joint import psi
from xinyidai.joint.models import Alignment, AlignmentState
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.models import LedgerEntry
from xinyidai.registry import creditcode

Auth = Callable[[str], dict[str, str]]
STRANGERS = [creditcode.make(f"91450100MA5K9{i:04d}") for i in range(5)]


class Center:
    """The center's API as the institution's client calls it, as one signed-in user."""

    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    def post(self, url: str, *, json: Any) -> Any:
        return self.client.post(url, json=json, headers=self.headers)


def test_the_institution_learns_only_its_customers_with_letters(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    grant(session, world, purpose="joint_modelling")
    grant(session, world, purpose="joint_modelling", grantee=world.other_bank_id)
    aligned = joint_client.align(Center(client, auth("bank")), [ENTERPRISE_CODE, *STRANGERS])
    assert aligned.codes == [ENTERPRISE_CODE]
    assert (aligned.sent, aligned.offered) == (6, 1)
    assert aligned.exchanged_bytes > 6 * 32
    row = session.scalar(select(Alignment).where(Alignment.public_id == aligned.alignment_id))
    assert row is not None
    assert (row.state, row.codes, row.matched) == (AlignmentState.MATCHED, [ENTERPRISE_CODE], 1)
    # the ledger's leaf commits to sizes, and shows no identifier to the public
    [leaf] = session.scalars(select(LedgerEntry).where(LedgerEntry.ref == aligned.alignment_id))
    digest = bytes(leaf.digest).hex()
    assert (
        ledger_service.check_body(session, kind="joint.alignment", ref=leaf.ref, digest=digest)
        == "matches"
    )
    public = json.dumps(
        client.get("/api/v1/ledger/entries", params={"start": 0}).json(), ensure_ascii=False
    )
    assert ENTERPRISE_CODE not in public
    listed = client.get("/api/v1/joint/alignments", headers=auth("bank")).json()
    assert [(a["sent"], a["offered"], a["matched"]) for a in listed["items"]] == [(6, 1, 1)]
    assert "codes" not in listed["items"][0]
    assert client.get("/api/v1/joint/alignments", headers=auth("bank2")).json()["total"] == 0
    assert client.get("/api/v1/joint/alignments", headers=auth("operator")).json()["total"] == 1


def test_letters_for_another_purpose_or_bank_take_no_part(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    grant(session, world, purpose="verification")
    grant(session, world, purpose="joint_modelling", grantee=world.other_bank_id)
    aligned = joint_client.align(Center(client, auth("bank")), [ENTERPRISE_CODE, OTHER_CODE])
    assert (aligned.codes, aligned.offered) == ([], 0)


def test_a_customer_list_with_an_invalid_code_names_the_row_and_sends_nothing(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    bad = ENTERPRISE_CODE[:-1] + ("0" if ENTERPRISE_CODE[-1] != "0" else "1")
    sent: list[Any] = []

    class Watching(Center):
        def post(self, url: str, *, json: Any) -> Any:
            sent.append(url)
            return super().post(url, json=json)

    with pytest.raises(ValidationFailed) as refused:
        joint_client.align(Watching(client, auth("bank")), [OTHER_CODE, bad])
    assert refused.value.field == "customers"
    assert "row 2" in str(refused.value)
    assert sent == []
    with pytest.raises(ValidationFailed):
        joint_client.align(Watching(client, auth("bank")), [])
    assert session.scalars(select(Alignment)).all() == []


@pytest.mark.parametrize(
    ("points", "field"),
    [([], "points"), (["not base64!"], "points"), (["AAAA"], "points")],
)
def test_points_that_are_not_points_are_refused(
    client: TestClient, auth: Auth, world: World, session: Session, points: list[str], field: str
) -> None:
    refused = client.post("/api/v1/joint/alignments", json={"points": points}, headers=auth("bank"))
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == field
    assert session.scalars(select(Alignment)).all() == []


def test_a_point_outside_the_group_is_refused(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    import base64

    rubbish = base64.b64encode(b"\xff" * 32).decode()
    refused = client.post(
        "/api/v1/joint/alignments", json={"points": [rubbish]}, headers=auth("bank")
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "points"


def test_matches_are_checked_and_taken_once(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    grant(session, world, purpose="joint_modelling")
    points = joint_client.encode_points(psi.blind_identifiers(psi.new_secret(), [ENTERPRISE_CODE]))
    offer = client.post("/api/v1/joint/alignments", json={"points": points}, headers=auth("bank"))
    assert offer.status_code == 201, offer.text
    url = f"/api/v1/joint/alignments/{offer.json()['public_id']}/matches"
    for positions in ([1], [0, 0]):
        bad = client.post(url, json={"positions": positions}, headers=auth("bank"))
        assert bad.status_code == 422
        assert bad.json()["error"]["field"] == "positions"
    assert client.post(url, json={"positions": [0]}, headers=auth("bank2")).status_code == 404
    assert client.post(url, json={"positions": [0]}, headers=auth("bank")).status_code == 200
    again = client.post(url, json={"positions": [0]}, headers=auth("bank"))
    assert (again.status_code, again.json()["error"]["field"]) == (409, "state")


def test_only_an_institution_aligns(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    points = joint_client.encode_points(psi.blind_identifiers(psi.new_secret(), [OTHER_CODE]))
    for who in ("enterprise", "operator"):
        refused = client.post(
            "/api/v1/joint/alignments", json={"points": points}, headers=auth(who)
        )
        assert refused.status_code == 403


def test_a_revoked_letter_takes_no_part(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    from xinyidai.consent import service as consent_service

    letter = grant(session, world, purpose="joint_modelling")
    consent_service.revoke(
        session, principal=world.principal(session, "enterprise"), letter=letter, reason=None
    )
    session.commit()
    aligned = joint_client.align(Center(client, auth("bank")), [ENTERPRISE_CODE])
    assert (aligned.codes, aligned.offered) == ([], 0)

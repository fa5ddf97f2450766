"""The institution's side of an alignment, over HTTP to the center's API.

``align`` checks the customer list, blinds it with a secret of its own, runs the center's
step (``POST /api/v1/joint/alignments``), finds the matches and tells the center their
positions. Only blinded points, positions and sizes cross; the secret never leaves this
process and is dropped on return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from xinyidai.core.errors import Unavailable, ValidationFailed
from xinyidai.joint import psi
from xinyidai.joint.service import customers_or_raise, decode_points, encode_points

__all__ = ["Aligned", "Poster", "align", "encode_points"]

ALIGNMENTS = "/api/v1/joint/alignments"


class Poster(Protocol):
    """What ``align`` needs of an HTTP client (an ``httpx.Client`` with the center's base
    URL and the institution's API key, or a test client)."""

    def post(self, url: str, *, json: Any) -> Any: ...


@dataclass(frozen=True)
class Aligned:
    """An alignment as the institution ends it: the intersection, in the center's order."""

    alignment_id: str
    codes: list[str]
    sent: int
    offered: int
    exchanged_bytes: int


def _answer(response: Any) -> dict[str, Any]:
    if response.status_code >= 500:
        raise Unavailable("the center did not answer ({status})", status=response.status_code)
    body: dict[str, Any] = response.json()
    if response.status_code >= 400:
        error = body.get("error", {})
        raise ValidationFailed(
            "the center refused: {reason}",
            field=error.get("field") or "center",
            reason=error.get("message", ""),
        )
    return body


def align(center: Poster, customers: Sequence[str]) -> Aligned:
    """Align the institution's customers with the center's enterprises (see ``joint.psi``)."""
    codes = customers_or_raise(customers)
    secret = psi.new_secret()
    sent = psi.shuffled(codes)
    points = encode_points(psi.blind_identifiers(secret, sent))
    offer = center.post(ALIGNMENTS, json={"points": points})
    body = _answer(offer)
    answer = decode_points(body["answer"], field="answer")
    theirs = decode_points(body["center_points"], field="center_points")
    matches = psi.intersect(secret, sent, answer, theirs)
    positions = [m.position for m in matches]
    matched = center.post(
        f"{ALIGNMENTS}/{body['public_id']}/matches", json={"positions": positions}
    )
    _answer(matched)
    return Aligned(
        alignment_id=str(body["public_id"]),
        codes=[m.identifier for m in matches],
        sent=int(body["sent"]),
        offered=int(body["offered"]),
        exchanged_bytes=sum(len(r.request.content) + len(r.content) for r in (offer, matched)),
    )

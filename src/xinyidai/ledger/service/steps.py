"""A subject's moves as rows of their own table, each row a salted leaf of the ledger: the
``History`` of a ``core.transitions`` machine (a blacklist listing's steps, an objection's)
and the declaration that lets ``verify`` and ``check_event`` recompute every one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.core.transitions import Machine, Step
from xinyidai.ledger.schemas import StoredEvent
from xinyidai.ledger.service.appending import append
from xinyidai.ledger.service.leaves import digest_of
from xinyidai.ledger.service.registry import register_steps
from xinyidai.ledger.service.sealing import new_salt

Body = Callable[[Any, Any], Mapping[str, Any]]


class LedgeredSteps:
    """Each move of a subject (an ``owner`` row with a ``public_id``) written as a row of
    ``step`` (its ``owner_key`` column naming the owner's ``id``; ``transition``,
    ``from_state``, ``to_state``, ``actor``, ``reason``, ``at``, ``salt``, ``digest``) and
    appended to the ledger as a salted leaf of ``kind`` whose ref is
    ``<owner public id>:<row id>`` and whose body is ``body(owner, row)``. Made once per
    kind, at import: it registers the leaves for verification (``register_steps``)."""

    def __init__(
        self,
        kind: str,
        *,
        step: Any,
        owner: Any,
        owner_key: str,
        body: Body,
        actor: str,
        subject: str,
    ) -> None:
        self.kind, self.step, self.owner_key = kind, step, owner_key
        self.body, self.actor, self.subject = body, actor, subject
        self.owner_of_step = getattr(step, owner_key)
        register_steps(
            kind, step=step, owner=owner, owner_of_step=self.owner_of_step, stored=self.stored
        )

    def write(self, session: Session, machine: Machine[Any], subject: Any, step: Step) -> None:
        session.flush()  # the subject's own row first: the move names it
        row = self.step(
            **{self.owner_key: subject.id},
            transition=step.transition,
            from_state=step.from_state,
            to_state=step.to_state,
            actor=step.actor,
            reason=step.reason,
            at=step.at,
            salt=new_salt(),
        )
        body = dict(self.body(subject, row))
        row.digest = digest_of(body)
        session.add(row)
        session.flush()
        append(
            session,
            kind=self.kind,
            actor=self.actor,
            subject=self.subject,
            ref=f"{subject.public_id}:{row.id}",
            body=body,
            salt=row.salt,
        )

    def read(self, session: Session, machine: Machine[Any], subject: Any) -> list[Any]:
        return list(
            session.scalars(
                select(self.step)
                .where(self.owner_of_step == subject.id)
                .order_by(self.step.at, self.step.id)
            )
        )

    def stored(self, owner: Any, row: Any) -> StoredEvent:
        """A move as the ledger checks it: recomputed from the rows, with its salt."""
        return StoredEvent(
            ref=f"{owner.public_id}:{row.id}",
            digest=digest_of(dict(self.body(owner, row))),
            salt=None if row.salt is None else bytes(row.salt),
            subject=self.subject,
            actor=self.actor,
        )

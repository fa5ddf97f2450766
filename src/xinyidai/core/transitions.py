"""State machines as data: a domain declares its moves; the kit guards, stamps and records.

A domain keeps its states as a ``StrEnum`` in its ``models.py`` and declares its machine as
a ``Machine``: a table of ``Move`` rows, each a name, the states it may start from, the
state it ends in and, where the kind of organization decides it, who may make it. A move
with no states to start from begins a subject's life (``begin``).

``machine.move(session, subject, name, actor=..., actor_kind=..., reason=...)`` is the one
way a subject changes state. It refuses a mover the move does not name (403, the machine's
``forbidden`` message), a state the move does not start from (409, the machine's
``refusal`` message, field ``state``) and a missing reason where the move needs one (422);
then it sets the subject's ``state``, ``state_changed_at`` and ``state_changed_by`` (and
``state_reason`` where the machine keeps it) and records one row of history.
``machine.history(session, subject)`` reads the rows back, oldest first.

History goes to one table, ``transition`` (subject kind and id, move, from, to, actor,
reason, time), unless a machine brings a ``History`` of its own: consent's letters (each
move is also a leaf of the ledger, bound to its own table's row ids) and iam's
organizations and users (their rows, kept since the start, name subjects by table key).
A new domain declares its states and its machine and gets the guard and the history for
free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from xinyidai.core import clock
from xinyidai.core.errors import Conflict, Forbidden, ValidationFailed
from xinyidai.core.models import Base, BigId, UTCDateTime

S = TypeVar("S", bound=StrEnum)

# Who moves a subject when no organization does: the clock, a sweep, automatic rules.
SYSTEM = "system"


class Transition(Base):
    """One recorded move of a subject: which, from what, to what, who, why, when."""

    __tablename__ = "transition"
    __table_args__ = (Index("ix_transition_subject", "subject_kind", "subject_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(40))
    transition: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Move(Generic[S]):
    """One row of a machine's table.

    ``sources`` are the states the move starts from (none: it begins a subject's life);
    ``movers`` the organization kinds (or ``SYSTEM``) that may make it, none when the
    service's own check of who acts (the grantor, the owner, the operator's routes) decides.
    """

    name: str
    sources: tuple[S, ...]
    target: S
    movers: tuple[str, ...] = ()
    reason_required: bool = False

    @property
    def begins(self) -> bool:
        return not self.sources


@dataclass(frozen=True)
class Step:
    """One move as it is recorded."""

    transition: str
    from_state: str | None
    to_state: str
    actor: str
    reason: str | None
    at: datetime


class History(Protocol):
    """Where a machine records its moves and reads them back."""

    def write(self, session: Session, machine: Machine[Any], subject: Any, step: Step) -> None: ...

    def read(self, session: Session, machine: Machine[Any], subject: Any) -> list[Any]: ...


def record(
    session: Session,
    *,
    kind: str,
    subject_id: str,
    transition: str,
    from_state: str | None,
    to_state: str,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> Transition:
    """Write one row of the ``transition`` table (for changes no machine guards: a webhook
    endpoint's secret rotated, a delivery queued again)."""
    row = Transition(
        subject_kind=kind,
        subject_id=subject_id,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        reason=reason,
        at=at or clock.now(),
    )
    session.add(row)
    return row


def history_of(session: Session, *, kind: str, subject_id: str) -> list[Transition]:
    """The recorded moves of one subject, oldest first."""
    return list(
        session.scalars(
            select(Transition)
            .where(Transition.subject_kind == kind, Transition.subject_id == subject_id)
            .order_by(Transition.at, Transition.id)
        )
    )


class TransitionTable:
    """The default history: rows of ``transition`` keyed by the machine's kind and the
    subject's key."""

    def write(self, session: Session, machine: Machine[Any], subject: Any, step: Step) -> None:
        record(
            session,
            kind=machine.kind,
            subject_id=machine.key(subject),
            transition=step.transition,
            from_state=step.from_state,
            to_state=step.to_state,
            actor=step.actor,
            reason=step.reason,
            at=step.at,
        )

    def read(self, session: Session, machine: Machine[Any], subject: Any) -> list[Any]:
        return list(history_of(session, kind=machine.kind, subject_id=machine.key(subject)))


# Each machine by the class of its subjects, for ``can`` (the portal asks it what to offer).
_MACHINES: dict[type[Any], Machine[Any]] = {}


def machine_of(subject: Any) -> Machine[Any] | None:
    """The machine that moves subjects of this class, if one was declared with it."""
    return _MACHINES.get(type(subject))


def can(subject: Any, name: str, actor_kind: str | None = None) -> bool:
    """Whether ``name`` would pass the guard of the subject's machine now (for ``actor_kind``
    when given): what a page offers."""
    machine = machine_of(subject)
    return machine is not None and machine.allows(subject, name, actor_kind=actor_kind)


def _public_id(subject: Any) -> str:
    return str(subject.public_id)


class Machine(Generic[S]):
    """A subject kind's states and moves, and the one way its subjects change state.

    ``refusal`` is the message id of the 409 when the state does not allow a move (given
    ``transition`` and ``state``); ``forbidden`` the message id of the 403 when the mover
    may not make it (given ``mover`` and ``transition``), at ``forbidden_field``.
    ``subject``: the class of the subjects (a table), which ``can`` finds the machine by.
    ``keeps_reason``: the subject has a ``state_reason`` column the move sets.
    ``reason_max``: the longest reason taken (422 beyond it).
    """

    def __init__(
        self,
        *,
        kind: str,
        states: type[S],
        moves: Iterable[Move[S]],
        subject: type[Any] | None = None,
        refusal: str,
        forbidden: str | None = None,
        forbidden_field: str = "state",
        key: Callable[[Any], str] = _public_id,
        keeps_reason: bool = False,
        reason_max: int | None = None,
        history: History | None = None,
    ) -> None:
        self.kind = kind
        self.states = states
        self.moves: dict[str, Move[S]] = {}
        for move in moves:
            if move.name in self.moves:
                raise ValueError(f"{kind}: the move {move.name} is declared twice")
            for state in (*move.sources, move.target):
                if not isinstance(state, states):
                    raise ValueError(f"{kind}: {state!r} of {move.name} is not a {states.__name__}")
            if move.movers and forbidden is None:
                raise ValueError(f"{kind}: {move.name} names its movers; give a forbidden message")
            self.moves[move.name] = move
        self.refusal = refusal
        self.forbidden = forbidden
        self.forbidden_field = forbidden_field
        self.key = key
        self.keeps_reason = keeps_reason
        self.reason_max = reason_max
        self.store: History = history or TransitionTable()
        if subject is not None:
            _MACHINES[subject] = self

    # ------------------------------------------------------------------ reading the table

    def names(self) -> list[str]:
        """The moves a subject makes once it exists, in the order they were declared."""
        return [name for name, move in self.moves.items() if not move.begins]

    def named(
        self, name: str, *, among: Sequence[str] | None = None, field: str = "transition"
    ) -> Move[S]:
        """The move called ``name`` if it is one of ``among`` (default: every move but the
        beginnings); ``ValidationFailed`` listing them otherwise."""
        allowed = list(among) if among is not None else self.names()
        if name not in allowed or name not in self.moves:
            raise ValidationFailed(
                "{value} is not one of {allowed}",
                field=field,
                value=name,
                allowed=", ".join(allowed),
            )
        return self.moves[name]

    def sources(self, name: str) -> tuple[S, ...]:
        """The states the move ``name`` starts from."""
        return self.moves[name].sources

    def available(self, subject: Any, *, actor_kind: str | None = None) -> list[str]:
        """The moves the subject's state allows now (and ``actor_kind`` may make, if given)."""
        return [
            name
            for name, move in self.moves.items()
            if subject.state in move.sources
            and (actor_kind is None or not move.movers or actor_kind in move.movers)
        ]

    def allows(self, subject: Any, name: str, *, actor_kind: str | None = None) -> bool:
        """Whether ``name`` would pass the guard now."""
        return name in self.available(subject, actor_kind=actor_kind)

    # ------------------------------------------------------------------ the guard

    def check(
        self,
        subject: Any,
        name: str,
        *,
        actor_kind: str | None = None,
        reason: str | None = None,
    ) -> str | None:
        """The guard alone: refuses the mover, the state or the reason; the reason, trimmed
        (None when empty)."""
        move = self.moves[name]
        if move.movers:
            if actor_kind is None:
                raise ValueError(f"{self.kind}: {name} needs the mover's kind")
            if actor_kind not in move.movers:
                raise Forbidden(
                    self.forbidden or "",
                    field=self.forbidden_field,
                    mover=" / ".join(move.movers),
                    transition=name,
                )
        if subject.state not in move.sources:
            raise Conflict(self.refusal, field="state", transition=name, state=subject.state)
        return self._reason(move, reason)

    def _reason(self, move: Move[S], reason: str | None) -> str | None:
        text = (reason or "").strip() or None
        if move.reason_required and text is None:
            raise ValidationFailed("give a reason", field="reason")
        if text is not None and self.reason_max is not None and len(text) > self.reason_max:
            raise ValidationFailed(
                "at most {maximum} characters", field="reason", maximum=self.reason_max
            )
        return text

    # ------------------------------------------------------------------ moving

    def move(
        self,
        session: Session,
        subject: Any,
        name: str,
        *,
        actor: str,
        actor_kind: str | None = None,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> Step:
        """Guard, stamp and record one move of ``subject``."""
        reason = self.check(subject, name, actor_kind=actor_kind, reason=reason)
        return self._land(
            session, subject, name, subject.state, self.moves[name].target, actor, reason, at
        )

    def begin(
        self,
        session: Session,
        subject: Any,
        name: str,
        *,
        actor: str,
        state: S | None = None,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> Step:
        """A subject's first move: it starts in the move's state (or ``state``, where the
        caller says where a new subject starts), recorded from nothing."""
        move = self.moves[name]
        if not move.begins:
            raise ValueError(f"{self.kind}: {name} does not begin a subject")
        reason = self._reason(move, reason)
        return self._land(session, subject, name, None, state or move.target, actor, reason, at)

    def _land(
        self,
        session: Session,
        subject: Any,
        name: str,
        previous: str | None,
        target: S,
        actor: str,
        reason: str | None,
        at: datetime | None,
    ) -> Step:
        moment = at or clock.now()
        subject.state = target
        subject.state_changed_at = moment
        subject.state_changed_by = actor
        if self.keeps_reason:
            subject.state_reason = reason
        step = Step(
            transition=name,
            from_state=None if previous is None else str(previous),
            to_state=str(target),
            actor=actor,
            reason=reason,
            at=moment,
        )
        self.store.write(session, self, subject, step)
        session.flush()
        return step

    def history(self, session: Session, subject: Any) -> list[Any]:
        """The subject's recorded moves, oldest first."""
        return self.store.read(session, self, subject)

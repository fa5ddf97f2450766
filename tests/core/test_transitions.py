"""The transition kit: a machine declared as data guards, stamps and records each move, and a
new kind of subject gets its history in the one ``transition`` table without a table of its
own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import Conflict, Forbidden, ValidationFailed
from xinyidai.core.transitions import (
    SYSTEM,
    Machine,
    Move,
    Step,
    Transition,
    can,
    history_of,
    machine_of,
    record,
)


class Lamp(StrEnum):
    OFF = "off"
    ON = "on"
    BROKEN = "broken"


@dataclass
class Widget:
    """A subject as a domain's table holds one: a public id and its state columns."""

    public_id: str
    state: str | None = None
    state_changed_at: datetime | None = None
    state_changed_by: str | None = None
    state_reason: str | None = None


WIDGETS: Machine[Lamp] = Machine(
    kind="widget",
    states=Lamp,
    subject=Widget,
    moves=(
        Move("install", (), Lamp.OFF),
        Move("switch_on", (Lamp.OFF,), Lamp.ON, ("operator",)),
        Move("switch_off", (Lamp.ON,), Lamp.OFF, ("operator", SYSTEM)),
        Move("break", (Lamp.OFF, Lamp.ON), Lamp.BROKEN, ("operator",), reason_required=True),
    ),
    refusal="cannot {transition} a widget that is {state}",
    forbidden="only the {mover} may {transition} a widget",
    keeps_reason=True,
    reason_max=10,
)

MOMENT = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def _installed(session: Session, public_id: str = "wdg_1") -> Widget:
    widget = Widget(public_id)
    with clock.frozen_at(MOMENT):
        WIDGETS.begin(session, widget, "install", actor="user:alice")
    return widget


def _rows(session: Session, kind: str = "widget") -> int:
    stmt = select(func.count()).where(Transition.subject_kind == kind)
    return int(session.scalar(stmt) or 0)


def test_a_new_kind_of_subject_gets_guard_stamp_and_history(session: Session) -> None:
    widget = _installed(session)
    assert (widget.state, widget.state_changed_by) == (Lamp.OFF, "user:alice")
    assert widget.state_changed_at == MOMENT
    step = WIDGETS.move(
        session, widget, "switch_on", actor="user:bob", actor_kind="operator", reason=" dusk "
    )
    assert step == Step("switch_on", "off", "on", "user:bob", "dusk", step.at)
    assert (widget.state, widget.state_changed_by, widget.state_reason) == (
        "on",
        "user:bob",
        "dusk",
    )
    session.commit()
    moves = WIDGETS.history(session, widget)
    assert [(m.transition, m.from_state, m.to_state, m.actor, m.reason) for m in moves] == [
        ("install", None, "off", "user:alice", None),
        ("switch_on", "off", "on", "user:bob", "dusk"),
    ]
    assert moves[0].at == MOMENT
    # the rows hold plain strings: what the table always stored
    assert {type(m.to_state) for m in moves} == {str}
    assert moves == history_of(session, kind="widget", subject_id="wdg_1")


def test_the_guard_refuses_the_state_with_the_machines_message(session: Session) -> None:
    widget = _installed(session)
    with pytest.raises(Conflict) as refused:
        WIDGETS.move(session, widget, "switch_off", actor="user:bob", actor_kind="operator")
    assert refused.value.field == "state"
    assert refused.value.message == "cannot {transition} a widget that is {state}"
    assert str(refused.value) == "cannot switch_off a widget that is off"
    assert (widget.state, widget.state_changed_by) == ("off", "user:alice")
    assert _rows(session) == 1  # the install alone


def test_the_guard_refuses_a_mover_the_move_does_not_name(session: Session) -> None:
    widget = _installed(session)
    with pytest.raises(Forbidden) as refused:
        WIDGETS.move(session, widget, "switch_on", actor="system:clock", actor_kind=SYSTEM)
    assert refused.value.field == "state"
    assert str(refused.value) == "only the operator may switch_on a widget"
    assert widget.state == "off"
    # the mover is checked before the state: a refused mover learns nothing of it
    with pytest.raises(Forbidden):
        WIDGETS.move(session, widget, "switch_off", actor="user:eve", actor_kind="enterprise")
    # a move that names its movers cannot be made without saying who moves
    with pytest.raises(ValueError, match="needs the mover's kind"):
        WIDGETS.move(session, widget, "switch_on", actor="user:bob")
    assert _rows(session) == 1


def test_a_reason_is_required_trimmed_and_bounded(session: Session) -> None:
    widget = _installed(session)
    for reason in (None, "", "   "):
        with pytest.raises(ValidationFailed) as missing:
            WIDGETS.move(
                session, widget, "break", actor="user:bob", actor_kind="operator", reason=reason
            )
        assert (missing.value.field, missing.value.message) == ("reason", "give a reason")
    with pytest.raises(ValidationFailed) as long:
        WIDGETS.move(
            session, widget, "break", actor="user:bob", actor_kind="operator", reason="x" * 11
        )
    assert long.value.field == "reason"
    assert long.value.params == {"maximum": 10}
    assert widget.state == "off"
    assert _rows(session) == 1
    WIDGETS.move(session, widget, "break", actor="user:bob", actor_kind="operator", reason="fell")
    assert (widget.state, widget.state_reason) == ("broken", "fell")


def test_names_from_a_request_are_checked_against_the_table(session: Session) -> None:
    assert WIDGETS.names() == ["switch_on", "switch_off", "break"]
    assert WIDGETS.named("break").target is Lamp.BROKEN
    with pytest.raises(ValidationFailed) as unknown:
        WIDGETS.named("install")  # a beginning is no move a request makes
    assert unknown.value.field == "transition"
    assert unknown.value.params == {"value": "install", "allowed": "switch_on, switch_off, break"}
    with pytest.raises(ValidationFailed) as narrower:
        WIDGETS.named("break", among=("switch_on", "switch_off"), field="action")
    assert narrower.value.field == "action"
    assert narrower.value.params["allowed"] == "switch_on, switch_off"
    assert WIDGETS.sources("break") == (Lamp.OFF, Lamp.ON)


def test_what_a_page_may_offer(session: Session) -> None:
    widget = _installed(session)
    assert WIDGETS.available(widget) == ["switch_on", "break"]
    assert WIDGETS.available(widget, actor_kind=SYSTEM) == []
    assert can(widget, "switch_on", "operator")
    assert not can(widget, "switch_on", SYSTEM)
    assert not can(widget, "switch_off")
    assert machine_of(widget) is WIDGETS
    assert not can(object(), "switch_on")  # no machine moves it


def test_a_beginning_is_recorded_from_nothing_and_only_a_beginning_begins(
    session: Session,
) -> None:
    widget = Widget("wdg_2")
    WIDGETS.begin(session, widget, "install", actor="user:alice", state=Lamp.ON)
    assert widget.state == "on"  # where the caller says a new subject starts
    with pytest.raises(ValueError, match="does not begin"):
        WIDGETS.begin(session, Widget("wdg_3"), "switch_on", actor="user:alice")
    [row] = history_of(session, kind="widget", subject_id="wdg_2")
    assert (row.from_state, row.to_state) == (None, "on")


def test_a_machine_may_record_its_moves_elsewhere(session: Session) -> None:
    kept: list[tuple[str, Step]] = []

    class Notebook:
        def write(self, session: Session, machine: Machine[Any], subject: Any, step: Step) -> None:
            kept.append((subject.public_id, step))

        def read(self, session: Session, machine: Machine[Any], subject: Any) -> list[Any]:
            return [step for key, step in kept if key == subject.public_id]

    noted: Machine[Lamp] = Machine(
        kind="noted_widget",
        states=Lamp,
        moves=(Move("install", (), Lamp.OFF), Move("switch_on", (Lamp.OFF,), Lamp.ON)),
        refusal="cannot {transition} a widget that is {state}",
        history=Notebook(),
    )
    widget = Widget("wdg_4")
    noted.begin(session, widget, "install", actor="user:alice")
    noted.move(session, widget, "switch_on", actor="user:alice")
    assert [s.transition for s in noted.history(session, widget)] == ["install", "switch_on"]
    assert _rows(session, "noted_widget") == 0


def test_a_table_is_declared_consistently_or_not_at_all() -> None:
    class Other(StrEnum):
        X = "x"

    with pytest.raises(ValueError, match="declared twice"):
        Machine(
            kind="w",
            states=Lamp,
            moves=(Move("a", (), Lamp.OFF), Move("a", (Lamp.OFF,), Lamp.ON)),
            refusal="r",
        )
    with pytest.raises(ValueError, match="is not a Lamp"):
        Machine(kind="w", states=Lamp, moves=(Move("a", (), Other.X),), refusal="r")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match="give a forbidden message"
    ):  # movers named, but no message to refuse the others with
        Machine(
            kind="w", states=Lamp, moves=(Move("a", (Lamp.OFF,), Lamp.ON, ("x",)),), refusal="r"
        )


def test_a_row_without_a_machine_is_history_too(session: Session) -> None:
    record(
        session,
        kind="widget",
        subject_id="wdg_9",
        transition="rotate",
        from_state="on",
        to_state="on",
        actor="user:bob",
        at=MOMENT,
    )
    record(
        session,
        kind="widget",
        subject_id="wdg_9",
        transition="switch_off",
        from_state="on",
        to_state="off",
        actor="user:bob",
        at=datetime(2026, 4, 1, tzinfo=UTC),
    )
    session.flush()
    # oldest first, by the time each move was made
    assert [r.transition for r in history_of(session, kind="widget", subject_id="wdg_9")] == [
        "switch_off",
        "rotate",
    ]

"""``xyd graph``: circles and chains as JSON lines, associations, signals, the index."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.graph.records import guarantee, list_as_dishonest, register
from xinyidai.cli import app
from xinyidai.graph import service

runner = CliRunner()


def _lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_circles_prints_each_circle_and_long_chain_then_the_analysis(session: Session) -> None:
    a, b, c = (register(session, n, representative=f"法人{n}") for n in (1, 2, 3))
    x, y, z = (register(session, n, representative=f"法人{n}") for n in (4, 5, 6))
    guarantee(session, a, b, amount="10.00")
    guarantee(session, b, c, amount="20.00")
    guarantee(session, c, a, amount="30.00")
    guarantee(session, x, y)
    guarantee(session, y, z)
    session.commit()
    result = runner.invoke(app, ["graph", "circles", "--json"])
    assert result.exit_code == 0, result.output
    *structures, summary = _lines(result.stdout)
    assert [(s["kind"], s["members"]) for s in structures] == [
        ("circle", [a, b, c]),
        ("chain", [x, y, z]),
    ]
    circle = structures[0]
    assert [e["amount"] for e in circle["edges"]] == ["10.00", "20.00", "30.00"]  # type: ignore[index]
    assert circle["total_amount"] == "60.00"
    assert summary["analysis"]["circles"] == 1  # type: ignore[index]
    stored = runner.invoke(app, ["graph", "circles", "--json", "--stored", "--kind", "chain"])
    assert [s["kind"] for s in _lines(stored.stdout)[:-1]] == ["chain"]


def test_circles_refuses_an_unknown_kind() -> None:
    result = runner.invoke(app, ["graph", "circles", "--kind", "ring"])
    assert result.exit_code == 1
    assert "kind must be one of circle, chain (kind)" in result.output


def test_circles_from_the_store_before_any_analysis_fails(session: Session) -> None:
    result = runner.invoke(app, ["graph", "circles", "--stored"])
    assert result.exit_code == 1
    assert "no region analysis has run yet (analysis)" in result.output


def test_associations_and_signals_of_one_enterprise(session: Session) -> None:
    a = register(session, 1, representative="王伟")
    b = register(session, 2, representative="王伟")
    list_as_dishonest(session, b)
    session.commit()
    assert runner.invoke(app, ["graph", "index", "--full"]).exit_code == 0
    result = runner.invoke(app, ["graph", "associations", a, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [(e["from"], e["to"], e["kind"]) for e in body["edges"]] == [(a, b, "representative")]
    signals = runner.invoke(app, ["graph", "signals", a, "--json"])
    assert [(s["code"], s["distance"]) for s in _lines(signals.stdout)] == [(b, 1)]
    everyone = runner.invoke(app, ["graph", "signals", "--json"])
    assert _lines(everyone.stdout) == [{"code": a, "depth1": 1, "depth2": 0}]


def test_associations_of_an_unknown_code_fails_with_the_field() -> None:
    result = runner.invoke(app, ["graph", "associations", "91640104MA0000001X"])
    assert result.exit_code == 1
    assert "(credit_code)" in result.output


def test_analyse_stores_the_bad_neighbour_counts(session: Session) -> None:
    a = register(session, 1, representative="王伟")
    b = register(session, 2, representative="王伟")
    list_as_dishonest(session, b)
    session.commit()
    result = runner.invoke(app, ["graph", "analyse"])
    assert result.exit_code == 0, result.output
    assert "bad neighbours counted for 1 enterprises" in result.output
    as_json = runner.invoke(app, ["graph", "analyse", "--json"])
    line = json.loads(as_json.stdout)
    assert (line["bad_neighbours"], line["counts_ms"] >= 0) == (1, True)
    session.expire_all()
    stored = service.stored_bad_neighbours(session)
    assert stored.rows() == [(a, 1, 0)]

"""``xyd graph``: related enterprises, guarantee circles and chains, bad-neighbour signals."""

from __future__ import annotations

from typing import Any

import typer

from xinyidai.cli.common import Steps, console, fail_on, print_json, setup_logging
from xinyidai.core.db import session_scope
from xinyidai.core.errors import ValidationFailed, XydError
from xinyidai.graph import cycles, service
from xinyidai.graph.models import GraphAnalysis
from xinyidai.graph.schemas import AnalysisOut

app = typer.Typer(help="Association analysis: related enterprises, guarantee circles and chains.")


def _analysis_line(analysis: GraphAnalysis) -> dict[str, Any]:
    return AnalysisOut.model_validate(analysis).model_dump(mode="json")


def _run(include_released: bool, min_chain: int) -> str:
    """Run a region analysis in one unit of work; its id."""
    with session_scope() as session:
        analysis = service.analyse(
            session,
            include_released=include_released,
            min_chain=min_chain,
            actor="cli",
            step=Steps(),
        )
        return analysis.id


@app.command()
def analyse(
    include_released: bool = typer.Option(
        False, "--include-released", help="count released guarantees (已解除) too"
    ),
    min_chain: int = typer.Option(
        cycles.MIN_CHAIN_MEMBERS, min=2, max=20, help="shortest chain reported (enterprises)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the analysis as JSON"),
) -> None:
    """Find every guarantee circle and chain of the region and store them as the latest."""
    setup_logging()
    analysis_id = _run(include_released, min_chain)
    with session_scope() as session:
        analysis = service.get_analysis_or_raise(session, analysis_id=analysis_id)
        if as_json:
            print_json(_analysis_line(analysis))
            return
        console.print(
            f"{analysis.enterprises:,} enterprises, {analysis.guarantees:,} guarantee links: "
            f"{analysis.circles:,} circles, {analysis.chains:,} chains of "
            f"{analysis.min_chain}+ enterprises in {analysis.total_ms / 1000:.1f} s"
            + (" (truncated)" if analysis.truncated else "")
        )
        console.print(
            f"bad neighbours counted for {analysis.bad_neighbours:,} enterprises "
            f"(bad signals as of {analysis.counts_as_of}) in {analysis.counts_ms / 1000:.1f} s"
        )


@app.command()
def circles(
    as_json: bool = typer.Option(
        False, "--json", help="one JSON object per circle or chain, then the analysis"
    ),
    kind: str = typer.Option(None, help="only circle or chain"),
    stored: bool = typer.Option(
        False, "--stored", help="print the latest stored analysis instead of running one"
    ),
    include_released: bool = typer.Option(
        False, "--include-released", help="count released guarantees (已解除) too"
    ),
    min_chain: int = typer.Option(
        cycles.MIN_CHAIN_MEMBERS, min=2, max=20, help="shortest chain reported (enterprises)"
    ),
) -> None:
    """Guarantee circles (members in guarantee order, amounts) and chains of the region."""
    setup_logging()
    if kind is not None and kind not in cycles.KINDS:
        fail_on(
            ValidationFailed(
                "kind must be one of {kinds}", field="kind", kinds=", ".join(cycles.KINDS)
            )
        )
    if not stored:
        _run(include_released, min_chain)
    try:
        with session_scope() as session:
            analysis = service.latest_analysis_or_raise(session)
            page = 1
            while True:
                rows, total, _ = service.structures(session, kind=kind, page=page, size=200)
                names = service.member_names(session, rows)
                for row in rows:
                    out = service.structure_out(row, names=names)
                    if as_json:
                        print_json(out.model_dump(mode="json"))
                    else:
                        path = " → ".join(f"{names.get(c, '?')}({c})" for c in out.members)
                        closing = f" → {out.members[0]}" if out.kind == cycles.CIRCLE else ""
                        console.print(
                            f"[bold]{out.kind}[/bold] {out.size} enterprises, "
                            f"{out.total_amount} yuan: {path}{closing}"
                        )
                if page * 200 >= total:
                    break
                page += 1
            if as_json:
                print_json({"analysis": _analysis_line(analysis)})
            else:
                console.print(
                    f"analysis {analysis.id}: {analysis.circles} circles, {analysis.chains} chains"
                )
    except XydError as exc:
        fail_on(exc)


@app.command()
def associations(
    code: str = typer.Argument(..., help="unified social credit code"),
    depth: int = typer.Option(service.DEFAULT_DEPTH, help="links to follow (1-3)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """The enterprises linked to one, how, and which of them are bad now."""
    try:
        with session_scope() as session:
            found = service.associations(session, code=code, depth=depth)
    except XydError as exc:
        fail_on(exc)
    if as_json:
        print_json(found.model_dump(mode="json", by_alias=True))
        return
    names = {node.code: node.name or "" for node in found.nodes}
    for node in found.nodes:
        flag = f" [red]{', '.join(node.signals)}[/red]" if node.bad else ""
        console.print(f"{'  ' * node.distance}{node.name} {node.code}{flag}")
    for edge in found.edges:
        arrow = "→" if edge.directed else "—"
        console.print(
            f"  {names.get(edge.source)} {arrow} {names.get(edge.target)}: {edge.kind} "
            f"{edge.detail}"
        )
    for circle in found.circles:
        console.print(f"[bold]circle[/bold] {' → '.join(circle.members)}")
    if found.truncated:
        console.print("[yellow]truncated: too many linked enterprises to follow all[/yellow]")


@app.command()
def signals(
    code: str = typer.Argument(None, help="one enterprise; all linked enterprises if omitted"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line"),
) -> None:
    """Bad neighbours: of one enterprise (who, how far, through which link), or counts at
    depth 1 and 2 for every linked enterprise with any."""
    try:
        with session_scope() as session:
            if code:
                for signal in service.associated_bad_signals(session, code=code):
                    if as_json:
                        print_json(signal.model_dump(mode="json"))
                    else:
                        console.print(
                            f"{signal.distance} {signal.name} {signal.code} via "
                            f"{', '.join(signal.via)}: {', '.join(signal.signals)}"
                        )
                return
            counts = service.bad_neighbour_counts(session)
    except XydError as exc:
        fail_on(exc)
    for credit_code in sorted(counts):
        value = counts[credit_code]
        if not value.depth1 and not value.depth2:
            continue
        if as_json:
            print_json({"code": credit_code, "depth1": value.depth1, "depth2": value.depth2})
        else:
            console.print(f"{credit_code} {value.depth1} {value.depth2}")


@app.command("index")
def refresh_index(
    full: bool = typer.Option(False, "--full", help="rebuild from every link record"),
) -> None:
    """Bring the index of link keys up to date with the records."""
    with session_scope() as session:
        if full:
            console.print(f"index rebuilt: {service.rebuild_index(session):,} keys")
        else:
            console.print(
                f"index refreshed: {service.refresh_index(session):,} enterprises re-read"
            )

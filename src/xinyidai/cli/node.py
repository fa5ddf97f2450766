"""``xyd node``: this node's identity, the registry of peers, sending to them, their status."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from xinyidai import bootstrap
from xinyidai.cli.common import console, fail_on, print_json
from xinyidai.core.db import commit_refusal, session_scope
from xinyidai.core.errors import XydError
from xinyidai.federation import keys
from xinyidai.federation.models import NodeRole, NodeState
from xinyidai.federation.schemas import NodeIn, NodeUpdate, UsageIn
from xinyidai.federation.service import down, exchange, joining, national, nodes, sync, up

# The rights outbox declares its feed when imported: sync sends its repairs and corrections.
from xinyidai.rights.service import outbox as _rights_outbox  # noqa: F401

app = typer.Typer(
    help="The network of platforms: this node's key, its peers, sync and status.",
    no_args_is_help=True,
)
ACTOR = "system:cli"


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [part for part in text.split(",") if part.strip()]


@app.command("init")
def init() -> None:
    """Make this node's Ed25519 key (once) and print its name and public key, which the
    center registers with ``xyd node register``."""
    try:
        key = keys.create_key()
    except XydError as exc:
        fail_on(exc)
    console.print(f"node key written to {keys.key_path()}")
    print_json({"name": keys.node_name(), "public_key": keys.public_text(key)})


@app.command("identity")
def identity() -> None:
    """Print this node's name and public key."""
    try:
        key = keys.load_key()
    except XydError as exc:
        fail_on(exc)
    print_json({"name": keys.node_name(), "public_key": keys.public_text(key)})


@app.command("register")
def register(
    name: str = typer.Argument(..., help="the node's name (its XYD_NODE_NAME)"),
    url: str = typer.Option(..., "--url", help="its base address, http(s)"),
    public_key: str = typer.Option(..., "--key", help="its public key (xyd node init there)"),
    role: NodeRole = typer.Option(NodeRole.CITY, "--role", help="center, city, service, national"),
    categories: str = typer.Option(
        "",
        "--categories",
        help="categories sent to it, comma-separated; * for every unconditional one",
    ),
    regions: str = typer.Option(
        "", "--regions", help="region code prefixes of its subjects, comma-separated"
    ),
    accepts: str = typer.Option(
        "", "--accepts", help="categories accepted from it, comma-separated"
    ),
    personal: bool = typer.Option(False, "--personal", help="send personal fields raw"),
) -> None:
    """Register a node this node exchanges with (a ledger event)."""
    try:
        with session_scope() as session:
            node = nodes.register(
                session,
                data=NodeIn(
                    name=name,
                    role=role,
                    url=url,
                    public_key=public_key,
                    categories=_split(categories) or [],
                    regions=_split(regions) or [],
                    accepts=_split(accepts) or [],
                    personal=personal,
                ),
                actor=ACTOR,
            )
            shown = nodes.out(node).model_dump(mode="json")
    except XydError as exc:
        fail_on(exc)
    print_json(shown)


@app.command("update")
def update(
    name: str = typer.Argument(..., help="the node's name"),
    url: str | None = typer.Option(None, "--url"),
    public_key: str | None = typer.Option(None, "--key"),
    state: NodeState | None = typer.Option(None, "--state", help="active or suspended"),
    categories: str | None = typer.Option(None, "--categories"),
    regions: str | None = typer.Option(None, "--regions"),
    accepts: str | None = typer.Option(None, "--accepts"),
    personal: bool | None = typer.Option(None, "--personal/--no-personal"),
) -> None:
    """Change a node's registration (a ledger event)."""
    data = NodeUpdate(
        url=url,
        public_key=public_key,
        state=state,
        categories=_split(categories),
        regions=_split(regions),
        accepts=_split(accepts),
        personal=personal,
    )
    try:
        with session_scope() as session:
            shown = nodes.out(nodes.update(session, name=name, data=data, actor=ACTOR))
    except XydError as exc:
        fail_on(exc)
    print_json(shown.model_dump(mode="json"))


@app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Every peer: state, lag (versions not acknowledged, age of the oldest), last
    exchange, last error, messages refused."""
    with session_scope() as session:
        found = [nodes.status(session, node) for node in session.scalars(nodes.statement())]
    if as_json:
        print_json([row.model_dump(mode="json") for row in found])
        return
    console.print(f"this node: {keys.node_name()}")
    for row in found:
        lag = "-" if row.lag_seconds is None else f"{row.lag_seconds:.0f} s"
        console.print(
            f"{row.name:<24} {row.role:<8} {row.state:<9} pending {row.pending_records} "
            f"(+{row.pending_feed} rights) lag {lag} last ack {row.last_ack_at or '-'} "
            f"refused {row.refused} failures {row.failures} {row.last_error or ''}"
        )


@app.command("sync")
def sync_command(
    name: str | None = typer.Argument(None, help="one node (default: every active one)"),
    force: bool = typer.Option(False, "--force", help="send even to a node backing off"),
    watch: float = typer.Option(0, "--watch", help="repeat every this many seconds"),
) -> None:
    """Send peers what they have not acknowledged, until caught up or a send fails."""
    while True:
        try:
            reports = [sync.sync_node(name, force=force)] if name else sync.sync_all(force=force)
        except XydError as exc:
            fail_on(exc)
        for report in reports:
            state = "backing off" if report.skipped else report.failed or "caught up"
            console.print(
                f"{report.node}: {report.messages} messages, {report.items} items, {state}"
            )
        if not watch:
            break
        time.sleep(watch)
    if any(report.failed for report in reports):
        raise typer.Exit(1)


@app.command("use")
def use(
    record_ids: list[str] = typer.Argument(..., help="records held here that were used"),
    loan_ref: str = typer.Option(..., "--loan", help="the loan or application they were used for"),
    purpose: str = typer.Option("loan", "--purpose"),
) -> None:
    """Note that records were used for a loan, to feed back to the center (数据回流)."""
    try:
        with session_scope() as session:
            rows = up.note_usage(
                session, data=UsageIn(record_ids=record_ids, loan_ref=loan_ref, purpose=purpose)
            )
            count = len(rows)
    except XydError as exc:
        fail_on(exc)
    console.print(f"{count} uses noted for {loan_ref}")


@app.command("received")
def received(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """What this node received, per origin node and category: versions applied, records,
    how many desensitized; and the usage platforms fed back."""
    with session_scope() as session:
        rows = [
            {
                "origin": origin,
                "category": category,
                "versions": versions,
                "records": records,
                "desensitized": int(desensitized or 0),
            }
            for origin, category, versions, records, desensitized, _ in session.execute(
                down.received_statement()
            )
        ]
        usage = up.usage_counts(session)
    if as_json:
        print_json({"records": rows, "usage": usage})
        return
    for row in rows:
        console.print(
            f"{row['origin']:<24} {row['category']:<24} {row['versions']} versions, "
            f"{row['records']} records, {row['desensitized']} desensitized"
        )
    for node, count in usage.items():
        console.print(f"usage fed back by {node}: {count}")


@app.command("export")
def export(
    name: str = typer.Argument(..., help="the national node's name"),
    out: Path = typer.Option(..., "--out", help="the batch file to write"),
) -> None:
    """Write the next batch of records for the national platform as a file (the marks move
    when its receipt file is read back with ``xyd node receipt``)."""
    try:
        with session_scope() as session:
            written = national.write_batch(session, name=name)
            if written is not None:
                out.write_text(written[0], encoding="utf-8")
                items = written[1].items
    except XydError as exc:
        fail_on(exc)
    if written is None:
        console.print(f"nothing new for {name}")
        return
    console.print(f"{items} items written to {out}")


@app.command("import")
def import_batch(
    path: Path = typer.Argument(..., help="a batch file from the national platform"),
    receipt: Path = typer.Option(..., "--receipt", help="where to write the receipt file"),
) -> None:
    """Apply a batch file from the national platform once and write its receipt file."""
    try:
        with session_scope() as session:
            try:
                text = national.read_batch(session, text=path.read_text(encoding="utf-8"))
            except exchange.MessageRefused as refused:
                fail_on(commit_refusal(session, refused))  # the refusal is kept
    except XydError as exc:
        fail_on(exc)
    receipt.write_text(text, encoding="utf-8")
    console.print(f"applied; receipt written to {receipt}")


@app.command("receipt")
def take_receipt(
    path: Path = typer.Argument(..., help="the national platform's receipt file"),
) -> None:
    """Read the national platform's receipt for a batch written here: the marks move."""
    try:
        with session_scope() as session:
            result = national.read_receipt(session, text=path.read_text(encoding="utf-8"))
    except XydError as exc:
        fail_on(exc)
    print_json(result)


@app.command("join")
def join(
    center_url: str = typer.Argument(..., help="the center's address, e.g. http://127.0.0.1:8000"),
    url: str = typer.Option(..., "--url", help="this node's own address, as the center reaches it"),
    role: NodeRole = typer.Option(NodeRole.CITY, "--role", help="city, service or national"),
    categories: str = typer.Option("*", "--categories", help="categories asked for"),
    regions: str = typer.Option("", "--regions", help="region code prefixes asked for"),
    username: str = typer.Option("operator", "--user", help="the center's operator account"),
    password: str = typer.Option(
        ..., "--password", envvar="XYD_CENTER_PASSWORD", prompt=True, hide_input=True
    ),
) -> None:
    """Set this node up (database, key) and join a center: register here and there."""
    bootstrap.initialize()
    if keys.ensure_key():
        console.print(f"node key written to {keys.key_path()}")
    try:
        with session_scope() as session:
            joined = joining.join(
                session,
                center_url=center_url,
                username=username,
                password=password,
                url=url,
                role=role,
                categories=_split(categories) or [],
                regions=_split(regions) or [],
                actor=ACTOR,
            )
    except XydError as exc:
        fail_on(exc)
    there = "registered at" if joined.registered_there else "already registered at"
    console.print(f"{keys.node_name()} {there} {joined.center}; start it with xyd serve")

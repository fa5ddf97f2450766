"""``xyd ledger``: the tamper-evident log (keys, checkpoints, verify) and ``xyd witness``."""

from __future__ import annotations

import getpass
import time
from pathlib import Path

import httpx
import typer

from xinyidai.audit import service as audit_service
from xinyidai.cli.common import Steps, console, fail, fail_on, print_json
from xinyidai.consent import service as consent_service
from xinyidai.core.db import session_scope
from xinyidai.core.errors import XydError
from xinyidai.core.settings import get_settings
from xinyidai.ledger import client as ledger_client
from xinyidai.ledger import keys, note, service
from xinyidai.ledger.schemas import VerifyReport
from xinyidai.ledger.tree import ProofError
from xinyidai.ledger.verify import verify_ledger

app = typer.Typer(help="The tamper-evident ledger: keys, checkpoints, verification, witnesses.")


@app.command("init")
def init(
    key_file: Path | None = typer.Option(None, help="where to write the key (default: settings)"),
) -> None:
    """Make the log's Ed25519 key pair and its tag secret (never overwrites either) and print
    the verifier key."""
    path = key_file or keys.key_path()
    if path.exists():
        signer = keys.load_key(path=path)
        console.print(f"the ledger key {path} already exists; keeping it")
    else:
        try:
            signer = keys.create_key(path=path)
        except XydError as exc:
            fail_on(exc)
        console.print(f"wrote the ledger key to {path} (mode 0600); back it up")
    tags = keys.tag_secret_path()
    if tags.exists():
        console.print(f"the ledger tag secret {tags} already exists; keeping it")
    else:
        keys.add_tag_secret(path=tags)
        console.print(f"wrote the ledger tag secret to {tags} (mode 0600); back it up")
    typer.echo(signer.verifier.vkey)


@app.command("rotate-tag-secret")
def rotate_tag_secret() -> None:
    """Add a new tag secret: new leaves are tagged with it, older leaves keep the secret they
    were tagged with (kept in the file). Parties fetch their keys again afterwards."""
    path = keys.tag_secret_path()
    if not path.exists():
        fail(f"the ledger tag secret {path} is missing; run xyd ledger init")
    secret = keys.add_tag_secret(path=path)
    console.print(f"added tag secret {secret.id} to {path}; new leaves are tagged with it")


@app.command("find")
def find(
    subject: str | None = typer.Option(None, help="an enterprise's credit code"),
    department: str | None = typer.Option(None, help="a department's code (e.g. tax)"),
    start: int = typer.Option(0, help="first leaf index to scan"),
) -> None:
    """The leaves of one enterprise or one department (tags matched with keys derived here);
    the search is logged as an access event, as an auditor's through the API is."""
    try:
        with session_scope() as session:
            principal = consent_service.console_principal(session, name=getpass.getuser())
            found = audit_service.ledger_leaves(
                session,
                principal=principal,
                subject=subject,
                department=department,
                start=start,
                channel="cli:ledger.find",
            )
    except XydError as exc:
        fail_on(exc)
    print_json(found.model_dump())


@app.command("checkpoint")
def checkpoint(
    watch: float = typer.Option(0.0, help="repeat every SECONDS (0: once)"),
) -> None:
    """Sequence pending entries and sign a checkpoint; print the signed note."""
    while True:
        try:
            with session_scope() as session:
                service.integrate(session)
                row = service.publish_checkpoint(session)
                text = service.checkpoint_note(session, row)
        except XydError as exc:
            fail_on(exc)
        if not watch:
            typer.echo(text, nl=False)
            return
        console.print(f"checkpoint size {row.size}")
        time.sleep(watch)


def _print_report(report: VerifyReport) -> None:
    summary = {
        "ok": report.ok,
        "size": report.size,
        "pending": report.pending,
        "checkpoints": report.checkpoints,
        "cosignatures": report.cosignatures,
        "sources": report.sources,
        "awaiting": report.awaiting,
        "first_bad_index": report.first_bad_index,
        "problems": [{"index": p.index, "what": p.what} for p in report.problems[:50]],
    }
    print_json(summary)
    if report.pending:
        waiting = sum(report.awaiting.values())
        console.print(
            f"{report.pending} ledger entries are pending: appended but not sequenced into the "
            f"tree yet ({waiting} stored records wait for theirs). Their leaves were checked; "
            "their place in the tree is checked once sequenced, by the worker's checkpoint "
            "task or `xyd ledger checkpoint`.",
            soft_wrap=True,
        )


@app.command("verify")
def verify(
    from_url: str | None = typer.Option(None, "--from", help="verify a remote log at this URL"),
    log_key: str | None = typer.Option(None, help="the log's verifier key (vkey) to trust"),
) -> None:
    """Recompute the tree from every leaf and check nodes, head, checkpoints and sources.

    Entries not sequenced yet (pending) are counted and checked on their own, not failed."""
    verifier = note.parse_verifier(log_key) if log_key else None
    if not from_url:
        from xinyidai.jobs import load_all_tasks

        load_all_tasks()  # every domain's ledger sources (blacklist, objections, …) are checked
    try:
        if from_url:
            with httpx.Client(base_url=from_url, timeout=30) as http:
                report = ledger_client.verify_remote(http, log_key=verifier)
        else:
            with session_scope() as session:
                report = verify_ledger(session, verifier=verifier, step=Steps())
    except XydError as exc:
        fail_on(exc)
    except (httpx.HTTPError, note.NoteError) as exc:
        fail(str(exc))
    _print_report(report)
    if not report.ok:
        first = report.first_bad_index
        where = f"first bad index {first}" if first is not None else report.problems[0].what
        fail(f"the ledger does not verify: {where}")


@app.command("add-witness")
def add_witness(name: str, vkey: str) -> None:
    """Trust a witness: its name and cosigner verifier key (made by ledger witness-key)."""
    try:
        with session_scope() as session:
            service.add_witness(session, name=name, vkey=vkey)
    except XydError as exc:
        fail_on(exc)
    console.print(f"witness {name} registered")


@app.command("witness-key")
def witness_key(
    name: str,
    out: Path = typer.Option(..., help="file to write the witness's private key to"),
) -> None:
    """Make a witness's cosigning key (Ed25519, cosignature/v1) and print its verifier key."""
    if out.exists():
        fail(f"{out} already exists")
    signer = note.generate_signer(name, key_type=note.COSIGNATURE_ED25519)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(signer.text + "\n")
    out.chmod(0o600)
    typer.echo(signer.verifier.vkey)


def witness(
    log: str = typer.Option(..., "--log", help="the log's base URL, e.g. https://xyd.example"),
    key: Path = typer.Option(..., "--key", help="the witness's private key file"),
    state: Path | None = typer.Option(None, "--state", help="where the witness remembers the log"),
    log_key: str | None = typer.Option(
        None, help="the log's verifier key (else pinned on first use)"
    ),
    once: bool = typer.Option(False, "--once", help="check and cosign once, then exit"),
    interval: float = typer.Option(5.0, help="seconds between checks"),
) -> None:
    """Witness a ledger: verify each new checkpoint and its consistency, then cosign it."""
    try:
        signer = note.parse_signer(key.read_text())
    except (OSError, note.NoteError) as exc:
        fail(f"cannot read the witness key: {exc}")
    state_path = state or get_settings().data_dir / "witness-state.json"
    verifier = note.parse_verifier(log_key) if log_key else None
    with httpx.Client(base_url=log, timeout=30) as http:
        while True:
            try:
                result = ledger_client.witness_round(
                    http, signer=signer, state_path=state_path, log_key=verifier
                )
                console.print(f"{result.status} checkpoint of size {result.size}")
            except ledger_client.WitnessRefusal as exc:
                fail(f"refused to cosign: {exc.reason}; evidence in {exc.evidence_path}", code=2)
            except (httpx.HTTPError, note.NoteError, ProofError) as exc:
                if once:
                    fail(str(exc))
                console.print(f"[yellow]warning:[/yellow] {exc}")
            if once:
                return
            time.sleep(interval)


def register(root: typer.Typer) -> None:
    root.command("witness")(witness)

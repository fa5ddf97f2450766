"""The ``xyd`` command: one sub-command group per domain (see ``xyd --help``).

The command line loads a group's module only when that group runs: ``xyd --help`` and
``xyd --version`` import none of the platform, and ``xyd db current`` imports what the
``db`` group needs, not the rating model's libraries. The groups and top-level commands are
listed here with the one line ``xyd --help`` shows for each; ``app`` is the whole command
line built at once (tests drive it with Typer's runner).

Tasks are loaded on first use: a command that queues work by name finds every task module
loaded then (``core.queue.load_tasks_with``), as the app and the worker do at start.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

import typer
from typer.core import TyperGroup
from typer.main import get_command

from xinyidai import __version__

HELP = "XYD 信易贷 — credit-information sharing and SME financing platform."

# Sub-command groups: name → (module under xinyidai.cli, the line `xyd --help` shows).
GROUPS: dict[str, tuple[str, str]] = {
    "db": ("db", "Database schema: apply migrations, show the current revision."),
    "registry": ("registry", "Credit subjects, unified social credit codes, regions, industries."),
    "iam": ("iam", "Organizations, users and passwords."),
    "catalog": ("catalog", "The information catalogue: categories, field schemas, sharing rules."),
    "records": ("records", "Credit records held by the data center, with their history."),
    "ledger": ("ledger", "The tamper-evident ledger: keys, checkpoints, verification, witnesses."),
    "consent": ("consent", "The credit commitment and authorization letters."),
    "audit": ("audit", "The access log: who read which enterprise's data, and why."),
    "privacy": ("privacy", "Grading, classification and desensitization rules."),
    "graph": ("graph", "Association analysis: related enterprises, guarantee circles and chains."),
    "scorecard": ("scorecard", "Credit scorecards on any table: fit, score, compare."),
    "rate": ("rating", "The platform rating: rate every enterprise, train the model."),
    "risk": ("risk", "Post-loan monitoring, early warning, fraud rules and the blacklist."),
    "rights": ("rights", "Subject rights: objections past their deadline, reminders, decisions."),
    "sharing": ("sharing", "Risk sharing: schemes, compensation pools, claims, statements."),
    "node": ("node", "The network of platforms: this node's key, its peers, sync and status."),
    "stats": ("stats", "Figures per day and dimension: refresh, rebuild, show, export, targets."),
    "joint": ("joint", "Joint modelling at an institution: align its customers with the center."),
    "supervision": (
        "supervision",
        "Supervision of institutions: assessments, agreements, findings.",
    ),
}

# Commands at the top: name → (module whose ``register`` adds it, the line shown).
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("platform", "Serve the API, the portal and machine endpoints."),
    "worker": ("platform", "Run queue workers for long jobs (imports, ratings, webhooks)."),
    "demo": ("platform", "Set up a demo: migrate, load a synthetic region, demo accounts."),
    "ingest": ("ingest", "Validate and store department data; bad rows kept with reasons."),
    "synth": ("synth", "Generate a synthetic region: department feeds with planted bad rows."),
    "profile": ("profile", "An enterprise's panoramic profile (logged as an access event)."),
    "profile-fonts": ("profile", "Cut the report fonts once, so PDF reports read them fast."),
    "backup": ("backup", "Write one archive of the node: database, keys, files."),
    "restore": ("backup", "Restore an archive into the configured database and data folder."),
    "witness": ("ledger", "Witness a ledger: verify each new checkpoint, then cosign it."),
}


def _module(name: str) -> Any:
    return importlib.import_module(f"xinyidai.cli.{name}")


def _tasks_on_first_use() -> None:
    from xinyidai.core import queue
    from xinyidai.jobs import load_all_tasks

    queue.load_tasks_with(load_all_tasks)


def build() -> typer.Typer:
    """The whole command line, every module loaded."""
    _tasks_on_first_use()
    whole = typer.Typer(
        name="xyd",
        help=HELP,
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
        add_completion=False,
    )
    for name, (module, _) in GROUPS.items():
        whole.add_typer(_module(module).app, name=name)
    for module in dict.fromkeys(module for module, _ in COMMANDS.values()):
        _module(module).register(whole)
    return whole


@lru_cache(maxsize=1)
def _whole() -> typer.Typer:
    return build()


def __getattr__(name: str) -> Any:
    if name == "app":
        return _whole()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class LazyCommandLine(TyperGroup):
    """``xyd``: lists its commands from the tables above; loads one when it runs."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(GROUPS | COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in GROUPS:
            _tasks_on_first_use()
            command = get_command(_module(GROUPS[cmd_name][0]).app)
            command.name = cmd_name
            return command
        if cmd_name in COMMANDS:
            _tasks_on_first_use()
            holder = typer.Typer(add_completion=False)
            _module(COMMANDS[cmd_name][0]).register(holder)
            built = get_command(holder)
            commands = getattr(built, "commands", None)
            if commands is None:  # a module that registers one command: Typer gives it as is
                built.name = cmd_name
                return built
            return commands.get(cmd_name)
        return None

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, (GROUPS | COMMANDS)[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


command_line = typer.Typer(
    cls=LazyCommandLine,
    name="xyd",
    help=HELP,
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion for bash, zsh, fish
    rich_markup_mode=None,  # the plain help lists the commands without loading them
    pretty_exceptions_show_locals=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"xyd {__version__}")
        raise typer.Exit()


@command_line.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_show_version, help="Show the version."
    ),
) -> None:
    """XYD 信易贷 — credit-information sharing and SME financing platform."""


def main() -> None:
    command_line(prog_name="xyd")

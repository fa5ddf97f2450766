"""``xyd joint align`` at the institution against the center served over HTTP on loopback:
the two sides share nothing but the protocol's messages; the intersection is written out."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.accounts import DEMO_PASSWORD, ENTERPRISE_CODE, OTHER_CODE
from tests.consent.world import World, grant
from tests.servers import serving
from xinyidai import cli
from xinyidai.joint.models import Alignment


def test_the_institution_aligns_its_customer_file_with_the_center(
    world: World, session: Session, tmp_path: Path
) -> None:
    from xinyidai.app import create_app

    grant(session, world, purpose="joint_modelling")
    customers = tmp_path / "customers.csv"
    customers.write_text(f"credit_code,name\n{OTHER_CODE},乙\n{ENTERPRISE_CODE},甲\n")
    out = tmp_path / "common.txt"
    with serving(create_app()) as base:
        args = ["joint", "align", str(customers), "--center", base, "--user", "bank"]
        done = CliRunner().invoke(
            cli.command_line,
            [*args, "--password", DEMO_PASSWORD, "--out", str(out)],
            prog_name="xyd",
        )
        assert done.exit_code == 0, done.output
        refused = CliRunner().invoke(
            cli.command_line, [*args, "--password", "wrong"], prog_name="xyd"
        )
        assert refused.exit_code == 1
        assert "sign-in" in refused.output
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    assert (printed["sent"], printed["offered"], printed["matched"]) == (2, 1, 1)
    assert out.read_text() == f"{ENTERPRISE_CODE}\n"
    session.expire_all()
    assert [a.matched for a in session.scalars(select(Alignment))] == [1]


def test_a_bad_code_in_the_file_is_named_before_anything_is_sent(tmp_path: Path) -> None:
    customers = tmp_path / "customers.txt"
    customers.write_text(f"{OTHER_CODE}\nNOT-A-CODE\n")
    done = CliRunner().invoke(
        cli.command_line,
        ["joint", "align", str(customers), "--center", "http://127.0.0.1:9", "--user", "bank"],
        input="x\n",
        prog_name="xyd",
    )
    assert done.exit_code == 1

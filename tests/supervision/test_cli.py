"""``xyd supervision``: the operator at the console lists institutions and the queue,
decides an assessment, closes a finding and runs the daily round; a refused step names the
field and changes nothing."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.supervision.conftest import Auth, Headers, filled_and_submitted, review_all, sign
from xinyidai.cli import app

runner = CliRunner()


def test_the_console_decides_an_assessment(
    client: TestClient, auth: Auth, applicant: tuple[str, Headers]
) -> None:
    org_id, headers = applicant
    sign(client, headers)
    assessment_id = filled_and_submitted(client, headers)
    queue = runner.invoke(app, ["supervision", "queue", "--json"])
    assert queue.exit_code == 0, queue.output
    assert [a["public_id"] for a in json.loads(queue.output)["items"]] == [assessment_id]
    early = runner.invoke(
        app, ["supervision", "decide", assessment_id, "--outcome", "pass", "--level", "A"]
    )
    assert early.exit_code != 0
    assert "(answers)" in early.output
    review_all(client, auth("operator"), assessment_id)
    decided = runner.invoke(
        app, ["supervision", "decide", assessment_id, "--outcome", "pass", "--level", "B"]
    )
    assert decided.exit_code == 0, decided.output
    assert "passed level B" in decided.output
    table = runner.invoke(app, ["supervision", "institutions", "--json"])
    row = next(r for r in json.loads(table.output)["items"] if r["organization_id"] == org_id)
    assert row["level"] == "B"
    assert row["hold"] is None
    done = runner.invoke(app, ["supervision", "round"])
    assert done.exit_code == 0, done.output
    assert "lapsed" in done.output

"""Migration 0016 seals the webhook secrets stored in clear before it, and puts deliveries
still pending on the back-off schedule; its downgrade gives the secrets back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from xinyidai.core import migrate, sealing

BEFORE, AFTER = "0015_iam_enterprise_claims", "0016_webhook_hardening"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_secrets_in_clear_are_sealed_and_given_back_on_downgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url, BEFORE)
    engine = create_engine(url)
    moment = datetime(2026, 12, 1, tzinfo=UTC).isoformat()
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO market_webhook_endpoint (id, public_id, institution_id, url, "
                    "secret, active, created_at, updated_at) VALUES (1, 'whk_old', 'org_bank', "
                    "'https://hooks.bank.example/in', :secret, 1, :t, :t)"
                ),
                {"secret": SECRET, "t": moment},
            )
            connection.execute(
                text(
                    "INSERT INTO market_webhook_delivery (id, public_id, endpoint_id, event_type, "
                    "payload, state, attempts, created_at, updated_at) VALUES (1, 'msg_old', 1, "
                    "'need.matched', '{}', 'pending', 2, :t, :t)"
                ),
                {"t": moment},
            )
        migrate.upgrade(url, AFTER)
        columns = {c["name"] for c in inspect(engine).get_columns("market_webhook_endpoint")}
        assert "secret" not in columns
        with engine.connect() as connection:
            sealed = connection.execute(
                text("SELECT secret_sealed FROM market_webhook_endpoint")
            ).scalar_one()
            pending = connection.execute(
                text("SELECT round_attempts, next_attempt_at FROM market_webhook_delivery")
            ).one()
        assert SECRET.removeprefix("whsec_") not in sealed
        assert sealing.unseal(sealed, context="market_webhook_endpoint:whk_old") == SECRET
        assert pending[0] == 2
        assert pending[1] is not None

        migrate.downgrade(url, BEFORE)
        with engine.connect() as connection:
            restored = connection.execute(
                text("SELECT secret FROM market_webhook_endpoint")
            ).scalar_one()
        assert restored == SECRET
    finally:
        engine.dispose()

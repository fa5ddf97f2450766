"""Fixtures of the audit tests: the consent world (accounts, records, a signed commitment)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.consent.world import World, build_world
from xinyidai.iam.service import DemoAccount


@pytest.fixture
def world(session: Session, demo: list[DemoAccount]) -> World:
    return build_world(session)

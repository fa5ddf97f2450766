"""Fixtures of the profile tests: the consent tests' small world of records."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.consent.world import World, build_world
from xinyidai.iam.service import DemoAccount


@pytest.fixture
def world(session: Session, demo: list[DemoAccount]) -> World:
    return build_world(session)

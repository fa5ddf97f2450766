"""JSON API of ``risk`` under ``/api/v1/risk``."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/risk", tags=["risk"])

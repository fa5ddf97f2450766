"""The registry of figure sources: every domain's figures, each in one module here.

A domain adds its figures (``sharing``: compensation and subsidies paid; ``rights``:
objections answered on time, repairs) with a module beside these, declaring a ``SOURCE``
(``kit.Source``: its figures and a function computing their cells for a span of days), and
one line in ``SOURCES`` below. The refresh, the rebuild, the API, the dashboard and the
exports then carry them with no other change.
"""

from __future__ import annotations

from xinyidai.stats.sources import consent, enterprises, market, records, rights, risk, sharing
from xinyidai.stats.sources.kit import Cell, Figure, Source

SOURCES: tuple[Source, ...] = (
    enterprises.SOURCE,
    records.SOURCE,
    consent.SOURCE,
    market.SOURCE,
    risk.SOURCE,
    sharing.SOURCE,
    rights.SOURCE,
)

FIGURES: dict[str, Figure] = {f.name: f for s in SOURCES for f in s.figures}

__all__ = ["FIGURES", "SOURCES", "Cell", "Figure", "Source"]

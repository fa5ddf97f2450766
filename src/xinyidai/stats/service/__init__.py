"""The services of ``stats``: keeping the summary (``refresh``), reading it (``figures``),
targets (``targets``)."""

from xinyidai.stats.service import figures, refresh, targets

__all__ = ["figures", "refresh", "targets"]

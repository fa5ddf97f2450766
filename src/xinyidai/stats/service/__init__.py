"""The services of ``stats``: keeping the summary (``refresh``), reading it (``figures``),
targets (``targets``)."""

from xinyidai.stats.service import cases, figures, refresh, targets

__all__ = ["cases", "figures", "refresh", "targets"]

"""``xyd synth``: a synthetic region of enterprises, department feeds and hidden outcomes.

``population`` yields the clean master records; ``generate`` writes the department feeds
(CSV in UTF-8 and GB18030, Excel, JSON, JSON Lines) with planted bad rows, a manifest and
the truth files (where the bad rows are, who defaulted in the following 12 months).
"""

from __future__ import annotations

from xinyidai.synth.enterprises import SynthEnterprise, SynthSignals, population
from xinyidai.synth.generate import generate

__all__ = ["SynthEnterprise", "SynthSignals", "generate", "population"]

"""The fonts of the PDF credit report: Noto Sans CJK, and a cut of it that reads fast.

A face of the Noto Sans CJK collection has 65,000 glyphs; reading it takes fontTools most
of a second, twice per report (regular and bold). ``prepare`` cuts each face once to the
characters reports are made of (ASCII and Latin-1, punctuation, arrows and symbols, CJK
punctuation, full-width forms and the 6,763 hanzi of GB 2312): about 8,000 glyphs that read
in a tenth of the time. The cuts live in the font cache (``settings.profile``:
``XYD_FONT_CACHE``, default ``$XDG_CACHE_HOME/xyd/fonts``, else ``~/.cache/xyd/fonts``),
named after their source, so a new font package makes new ones; ``make install`` prepares
them (``xyd profile-fonts``). A report whose text needs a character outside the cut (a rare
hanzi in a name) is written again with the whole face, so nothing is ever missing; without
a cut every report uses the whole face.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from xinyidai.core.errors import Unavailable
from xinyidai.core.settings import get_settings

log = logging.getLogger(__name__)

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
DEFAULT_REGULAR = NOTO_DIR / "NotoSansCJK-Regular.ttc"
DEFAULT_BOLD = NOTO_DIR / "NotoSansCJK-Bold.ttc"
PREFERRED_FACE = "SC"  # in a collection, the face for Simplified Chinese
CUT_VERSION = 1  # change when the character set below changes


@dataclass(frozen=True)
class Face:
    """One font face: a file and, in a collection, the face's number."""

    path: Path
    number: int = 0


@dataclass(frozen=True)
class ReportFonts:
    regular: Face
    bold: Face
    cut: bool  # the faces are cuts: a missing character means writing again with ``whole``


def cache_dir() -> Path:
    return get_settings().profile.font_cache_dir


@lru_cache(maxsize=1)
def cut_characters() -> frozenset[int]:
    """The code points a cut keeps."""
    keep = set(range(0x20, 0x7F)) | set(range(0xA0, 0x180))
    keep |= set(range(0x2000, 0x2800))  # punctuation, arrows, symbols, box drawing, dingbats
    keep |= set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))
    for code in range(0x4E00, 0xA000):
        try:
            chr(code).encode("gb2312")
        except UnicodeEncodeError:
            continue
        keep.add(code)
    return frozenset(keep)


def face_number(path: Path) -> int:
    """The Simplified Chinese face of a font collection (0 for a single font)."""
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(path), lazy=True)
    try:
        for number, font in enumerate(collection.fonts):
            if font["name"].getDebugName(1).endswith(f" {PREFERRED_FACE}"):
                return number
    finally:
        collection.close()
    return 0


def _source(path: Path) -> Face:
    if not path.is_file():
        raise Unavailable(
            "the report font {path} is missing: install Debian's fonts-noto-cjk "
            "or set XYD_REPORT_FONT",
            field="font",
            path=str(path),
        )
    return Face(path, face_number(path))


def whole_faces() -> tuple[Face, Face]:
    """The configured regular and bold faces, whole; ``Unavailable`` if a file is missing."""
    settings = get_settings().profile
    regular = settings.report_font or DEFAULT_REGULAR
    bold = settings.report_font_bold or (DEFAULT_BOLD if regular == DEFAULT_REGULAR else regular)
    return _whole(regular, bold)


@lru_cache(maxsize=4)
def _whole(regular: Path, bold: Path) -> tuple[Face, Face]:
    return _source(regular), _source(bold)


def cut_path(face: Face) -> Path:
    """Where the cut of ``face`` is kept: named by the source's path, size and time."""
    stat = face.path.stat()
    key = f"{face.path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{face.number}|{CUT_VERSION}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / f"{face.path.stem}-{face.number}-{digest}.otf"


def cut(face: Face, target: Path, characters: frozenset[int] | None = None) -> Path:
    """Write the cut of ``face`` to ``target`` (atomically: a half-written cut never shows)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(face.path), fontNumber=face.number, lazy=True)
    options = subset.Options(
        notdef_outline=True, name_IDs=["*"], name_languages=["*"], layout_features=[]
    )
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=characters or cut_characters())
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        font.save(str(partial))
        os.replace(partial, target)
    finally:
        font.close()
        partial.unlink(missing_ok=True)
    return target


def prepare() -> list[Path]:
    """Cut the configured faces into the cache if not there yet; the cuts' paths."""
    done = []
    for face in dict.fromkeys(whole_faces()):
        target = cut_path(face)
        if not target.is_file():
            log.info("cutting %s (face %d) to %s", face.path, face.number, target)
            cut(face, target)
        done.append(target)
    return done


def report_fonts() -> ReportFonts:
    """The faces a report is written with: the cuts when prepared, else the whole faces."""
    regular, bold = whole_faces()
    cuts = [cut_path(regular), cut_path(bold)]
    if all(path.is_file() for path in cuts):
        return ReportFonts(Face(cuts[0]), Face(cuts[1]), cut=True)
    return ReportFonts(regular, bold, cut=False)

"""PDF documents: a Jinja template in templates/pdf/ rendered by WeasyPrint.

The URL fetcher loads nothing from outside the app (no files, no network): documents
carry their styles inline and images as data: URIs.  The Chinese text needs a real
Song (serif) font from fontconfig; without one we say which package to install rather
than print a PDF full of empty boxes.

Speed and size.  A CJK font has some 65,000 glyphs (Noto Serif CJK is a 26 MB
collection), and WeasyPrint subsets the font it embeds on every render, keeping every
glyph id up to the highest one used: the PDF carried ~75 KB of empty glyph slots per
face and, where WeasyPrint subsets with fontTools, a page took seconds.  So the system
font is cut once into smaller fonts, cached on disk (``PDF_FONT_CACHE_DIR``, default
``<instance>/font-cache``) and given to WeasyPrint through ``@font-face``:

* "… GB2312": ASCII, Latin-1, punctuation, CJK symbols, full-width forms and the
  7,445 characters of GB 2312 (all common hanzi) — nearly every document needs only it;
* "… Ext": the rest of the CJK Unified Ideographs block (rarer name characters such
  as 堃 喆 赟 玥);
* then the system font itself, so that any other character still gets a real glyph.

Pango picks, for each character, the first font of that list that has it.  Each cached
font is cut from the system face with HarfBuzz (under a second; fontTools, much slower,
in a background thread if HarfBuzz-subset is missing), renamed so that fontconfig never
mistakes it for the system font, and its CFF CIDs renumbered to equal the glyph ids as
in the original (PDF viewers look glyphs up by CID).  Files are written atomically and
re-made when missing, unreadable or older than the system font; several processes may
share the folder.  Each thread keeps its WeasyPrint FontConfiguration, with the fonts
loaded, for an hour.
"""

import contextlib
import hashlib
import io
import logging
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import current_app, render_template
from flask_babel import gettext as _
from weasyprint import CSS, HTML
from weasyprint.pdf import VARIANTS
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from mediation.core.errors import OperationError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: no lock, the writes stay atomic
    fcntl = None

log = logging.getLogger(__name__)

# Serif CJK families, best first; fonts-noto-cjk provides the first on Debian/Ubuntu.
SERIF_FAMILIES = ("Noto Serif CJK SC", "Source Han Serif SC", "Noto Serif SC",
                  "AR PL UMing CN", "SimSun", "Songti SC")
FONT_PACKAGE = "fonts-noto-cjk"
# WeasyPrint's variants, e.g. "pdf/a-3b" (archival), "pdf/a-2b", "pdf/ua-1"; "debug" fails.
PDF_VARIANTS = frozenset(VARIANTS) - {"debug"}


class MissingFont(OperationError):
    """No Chinese serif font is installed: the PDF would show empty boxes."""


@cache
def serif_family() -> str | None:
    """The first installed Chinese serif family, as fontconfig knows it."""
    if shutil.which("fc-list") is None:
        return None
    listing = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True,
                             text=True, check=False).stdout
    installed = {name.strip() for line in listing.splitlines() for name in line.split(",")}
    return next((family for family in SERIF_FAMILIES if family in installed), None)


def require_font() -> str:
    family = serif_family()
    if family is None:
        raise MissingFont(_("No Chinese serif font is installed, so the PDF cannot be made. "
                            "Ask the administrator to install the %(package)s package "
                            "(sudo apt-get install %(package)s).", package=FONT_PACKAGE))
    return family


def inside_only_fetcher() -> URLFetcher:
    """Only data: URIs; a document that asks for a file or a web address gets nothing."""
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)


def render_pdf(template: str, *, title: str, pdf_variant: str | None = None,
               **context) -> bytes:
    """Render ``templates/pdf/<template>`` to PDF bytes, A4, with the serif CJK font.

    ``pdf_variant`` is one of WeasyPrint's variants, e.g. ``"pdf/a-3b"`` for archiving.
    The template gets ``font_families`` (the CSS font-family list, fastest font first)
    and ``font_family`` (its first entry).
    """
    if pdf_variant is not None and pdf_variant not in PDF_VARIANTS:
        raise ValueError(f"unknown PDF variant {pdf_variant!r}; one of {sorted(PDF_VARIANTS)}")
    fonts = _document_fonts(require_font())
    html = render_template(f"pdf/{template}", font_family=fonts.families[0],
                           font_families=fonts.families, title=title, **context)
    with warnings.catch_warnings():
        # The PDF/A and PDF/X variants embed WeasyPrint's sRGB profile, whose file
        # WeasyPrint 70 opens and never closes.
        warnings.filterwarnings("ignore", r"unclosed file .*sRGB2014\.icc", ResourceWarning)
        return HTML(string=html, url_fetcher=inside_only_fetcher()).write_pdf(
            stylesheets=fonts.stylesheets, font_config=fonts.font_config,
            pdf_variant=pdf_variant)


# --- The fonts a document uses, per thread --------------------------------------------

FONT_CONFIG_MAX_AGE = 3600  # seconds; then the fonts are looked up (and loaded) again


@dataclass
class DocumentFonts:
    families: list[str]  # CSS font-family list, cached fonts first, then the system family
    stylesheets: list[CSS]  # the @font-face rules of the cached fonts
    font_config: FontConfiguration
    key: tuple
    faces: tuple
    complete: bool  # False while the cache is being built: look again at the next render
    created: float


_local = threading.local()


def _document_fonts(family: str) -> DocumentFonts:
    cache_dir = Path(current_app.config.get("PDF_FONT_CACHE_DIR")
                     or Path(current_app.instance_path) / "font-cache")
    key = (str(cache_dir), family)
    fonts = getattr(_local, "fonts", None)
    fresh = (fonts is not None and fonts.key == key
             and time.monotonic() - fonts.created < FONT_CONFIG_MAX_AGE)
    if fresh and fonts.complete:
        return fonts
    faces, complete = cached_faces(cache_dir, family)
    if fresh and fonts.faces == tuple(faces):  # the cache is still being made
        fonts.complete = complete
        return fonts
    font_config = FontConfiguration()
    rules = "\n".join(
        f'@font-face {{ font-family: "{face.css_family}"; src: url("{face.path.as_uri()}"); '
        f"font-weight: {face.weight}; font-style: normal; }}" for face in faces)
    stylesheets = [CSS(string=rules, url_fetcher=_CachedFontFetcher(faces),
                       font_config=font_config)] if faces else []
    families = list(dict.fromkeys(face.css_family for face in faces)) + [family]
    _local.fonts = DocumentFonts(families, stylesheets, font_config, key, tuple(faces),
                                 complete, time.monotonic())
    return _local.fonts


class _CachedFontFetcher(URLFetcher):
    """Serves the cached font files to ``@font-face`` and nothing else.

    Only the stylesheet holding the ``@font-face`` rules uses it; documents keep
    :func:`inside_only_fetcher`.
    """

    def __init__(self, faces):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False, timeout=1)
        self._paths = {face.path.as_uri(): face.path for face in faces}

    def fetch(self, url, headers=None):
        path = self._paths.get(url)
        if path is None:
            raise ValueError(f"not a cached PDF font: {url}")
        return URLFetcherResponse(url, body=path.read_bytes())


# --- The cached fonts ------------------------------------------------------------------

CACHE_VERSION = 1  # bump when the way the fonts are cut changes: the files are re-made
# Layout features kept for horizontal Chinese text; "locl" would pull in the Japanese,
# Korean and traditional forms of every character, "vert" the vertical ones.
LAYOUT_FEATURES = ("ccmp", "liga", "calt", "clig", "rlig", "kern", "mark", "mkmk",
                   "palt", "halt")
COMMON_RANGES = ((0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x2100, 0x218F),
                 (0x2460, 0x24FF), (0x3000, 0x303F), (0xFF00, 0xFFEF))


@cache
def _gb2312() -> frozenset[int]:
    """Every character of GB 2312: 6,763 hanzi and 682 symbols."""
    chars = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(ord(bytes((high, low)).decode("gb2312")))
    return frozenset(chars)


@cache
def _common() -> frozenset[int]:
    chars = set(_gb2312())
    for first, last in COMMON_RANGES:
        chars.update(range(first, last + 1))
    return frozenset(chars)


@cache
def _extension() -> frozenset[int]:
    """The rest of CJK Unified Ideographs (U+4E00–U+9FFF)."""
    return frozenset(range(0x4E00, 0xA000)) - _common()


TIERS = (("GB2312", _common), ("Ext", _extension))


@dataclass(frozen=True)
class SystemFace:
    path: str
    index: int
    weight: int  # CSS weight: 400 or 700


@dataclass(frozen=True)
class CachedFace:
    css_family: str
    weight: int
    path: Path


def system_faces(family: str) -> list[SystemFace]:
    """The upright regular face of ``family`` and its bold face if installed."""
    if shutil.which("fc-list") is None:
        return []
    listing = subprocess.run(
        ["fc-list", "--format", "%{file}\t%{index}\t%{weight}\t%{slant}\t%{width:-100}\n",
         family], capture_output=True, text=True, check=False).stdout
    upright = []  # (weight, width, path, index), fontconfig's scales: 80 regular, 200 bold
    for line in listing.splitlines():
        try:
            path, index, weight, slant, width = line.split("\t")
            if int(slant) == 0:
                upright.append((int(weight), int(width), path, int(index) & 0xFFFF))
        except ValueError:
            continue  # a variable font's weight range, or no weight: skip it
    faces = []
    for css_weight, fc_weight, minimum in ((400, 80, 0), (700, 200, 180)):
        candidates = [face for face in upright if face[0] >= minimum]
        if candidates:
            *_, path, index = min(candidates, key=lambda face: (abs(face[0] - fc_weight),
                                                                abs(face[1] - 100)))
            faces.append(SystemFace(path, index, css_weight))
    if len(faces) == 2 and faces[0].path == faces[1].path \
            and faces[0].index == faces[1].index:
        faces.pop()  # no bold face: the regular one is all there is
    return faces


def cached_faces(cache_dir: Path, family: str) -> tuple[list[CachedFace], bool]:
    """The cached fonts of ``family``, made now if need be; and whether all are there.

    Never raises: without the cache the system font is used, as before.
    """
    try:
        plan = _plan(cache_dir, family)
        if not plan:
            return [], True
        missing = [entry for entry in plan if not _usable(entry[0].path)]
        if missing:
            if _harfbuzz() is None:  # fontTools takes minutes: not while someone waits
                _build_in_background(cache_dir, missing)
                return [entry[0] for entry in plan if _usable(entry[0].path)], False
            _build(cache_dir, missing)
        return [entry[0] for entry in plan], True
    except Exception:  # noqa: BLE001 - a font cache problem must not stop the document
        log.warning("PDF font cache in %s unusable; using the system font", cache_dir,
                    exc_info=True)
        return [], True


def _plan(cache_dir: Path, family: str) -> list[tuple[CachedFace, SystemFace, str, object]]:
    slug = re.sub(r"[^a-z0-9]+", "-", family.lower()).strip("-")
    plan = []
    faces = system_faces(family)
    for tier, repertoire in TIERS:
        for face in faces:
            stat = os.stat(face.path)
            digest = hashlib.sha256(repr((
                CACHE_VERSION, face.path, face.index, stat.st_size, stat.st_mtime_ns,
                tier)).encode()).hexdigest()[:16]
            path = cache_dir / f"{slug}-{face.weight}-{tier.lower()}-{digest}.otf"
            plan.append((CachedFace(f"{family} {tier}", face.weight, path), face, tier,
                         repertoire))
    return plan


def _usable(path: Path) -> bool:
    """A whole font file: its header and table directory agree with its size."""
    try:
        with path.open("rb") as file:
            header = file.read(12)
            if len(header) < 12 or header[:4] not in (b"OTTO", b"\x00\x01\x00\x00"):
                return False
            count = struct.unpack(">H", header[4:6])[0]
            directory = file.read(16 * count)
            size = os.fstat(file.fileno()).st_size
    except OSError:
        return False
    if len(directory) < 16 * count:
        return False
    tags = set()
    for i in range(count):
        tag, _checksum, offset, length = struct.unpack(">4sIII", directory[16 * i:16 * i + 16])
        if offset + length > size:
            return False
        tags.add(tag)
    return b"cmap" in tags and (b"CFF " in tags or b"glyf" in tags)


@contextlib.contextmanager
def _lock(cache_dir: Path):
    """One process builds at a time; the others wait, then find the files made."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / ".lock").open("a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _build(cache_dir: Path, entries) -> None:
    with _lock(cache_dir):
        for cached, face, _tier, repertoire in entries:
            if _usable(cached.path):
                continue  # another process made it while we waited
            started = time.perf_counter()
            data = _subset(face, repertoire())
            data = _finish(data, cached.css_family)
            _write_atomically(cached.path, data)
            _remove_stale(cached.path)
            log.info("PDF font %s (%d KB) made in %.1f s", cached.path.name, len(data) // 1024,
                     time.perf_counter() - started)


_background = threading.Lock()


def _build_in_background(cache_dir: Path, entries) -> None:
    if not _background.acquire(blocking=False):
        return  # already building

    def build():
        try:
            _build(cache_dir, entries)
        except Exception:  # noqa: BLE001
            log.warning("Could not make the PDF fonts in %s", cache_dir, exc_info=True)
        finally:
            _background.release()

    threading.Thread(target=build, name="pdf-font-cache", daemon=True).start()


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _remove_stale(path: Path) -> None:
    """Files of this face and tier cut from an older system font, and abandoned writes."""
    prefix = path.name.rsplit("-", 1)[0] + "-"
    for other in path.parent.iterdir():
        with contextlib.suppress(OSError):
            if other.name.startswith(prefix) and other != path:
                other.unlink()
            elif other.suffix == ".tmp" and time.time() - other.stat().st_mtime > 3600:
                other.unlink()


def _subset(face: SystemFace, unicodes: frozenset[int]) -> bytes:
    if _harfbuzz() is not None:
        return _harfbuzz_subset(face, unicodes)
    return _fonttools_subset(face, unicodes)


_HARFBUZZ_CDEF = """
typedef ... hb_blob_t;
typedef ... hb_face_t;
typedef ... hb_set_t;
typedef ... hb_subset_input_t;
hb_blob_t *hb_blob_create_from_file (const char *file_name);
unsigned int hb_blob_get_length (hb_blob_t *blob);
const char *hb_blob_get_data (hb_blob_t *blob, unsigned int *length);
void hb_blob_destroy (hb_blob_t *blob);
hb_face_t *hb_face_create (hb_blob_t *blob, unsigned int index);
hb_blob_t *hb_face_reference_blob (hb_face_t *face);
void hb_face_destroy (hb_face_t *face);
void hb_set_add (hb_set_t *set, uint32_t codepoint);
void hb_set_clear (hb_set_t *set);
uint32_t hb_tag_from_string (const char *str, int len);
hb_subset_input_t *hb_subset_input_create_or_fail (void);
void hb_subset_input_destroy (hb_subset_input_t *input);
hb_set_t *hb_subset_input_unicode_set (hb_subset_input_t *input);
hb_set_t *hb_subset_input_set (hb_subset_input_t *input, int set_type);
hb_face_t *hb_subset_or_fail (hb_face_t *source, const hb_subset_input_t *input);
"""
HB_SUBSET_SETS_LAYOUT_FEATURE_TAG = 6


@cache
def _harfbuzz():
    """HarfBuzz and HarfBuzz-subset ≥ 2.9 (the libraries WeasyPrint loads), or None."""
    try:
        import cffi

        ffi = cffi.FFI()
        ffi.cdef(_HARFBUZZ_CDEF)
        libraries = []
        for names in (("libharfbuzz.so.0", "libharfbuzz.0.dylib", "libharfbuzz-0.dll"),
                      ("libharfbuzz-subset.so.0", "libharfbuzz-subset.0.dylib",
                       "libharfbuzz-subset-0.dll")):
            for name in names:
                try:
                    libraries.append(ffi.dlopen(name))
                    break
                except OSError:
                    continue
            else:
                return None
        hb, subset = libraries
        for function in ("hb_subset_or_fail", "hb_subset_input_set"):
            getattr(subset, function)  # AttributeError before 2.9
    except (ImportError, OSError, AttributeError):
        return None
    return ffi, hb, subset


def _harfbuzz_subset(face: SystemFace, unicodes: frozenset[int]) -> bytes:
    ffi, hb, hb_subset = _harfbuzz()
    blob = hb.hb_blob_create_from_file(face.path.encode())
    source = hb.hb_face_create(blob, face.index)
    request = hb_subset.hb_subset_input_create_or_fail()
    result = ffi.NULL
    try:
        if hb.hb_blob_get_length(blob) == 0 or request == ffi.NULL:
            raise OSError(f"HarfBuzz cannot read {face.path}")
        wanted = hb_subset.hb_subset_input_unicode_set(request)
        for codepoint in sorted(unicodes):
            hb.hb_set_add(wanted, codepoint)
        features = hb_subset.hb_subset_input_set(request, HB_SUBSET_SETS_LAYOUT_FEATURE_TAG)
        hb.hb_set_clear(features)
        for feature in LAYOUT_FEATURES:
            hb.hb_set_add(features, hb.hb_tag_from_string(feature.encode(), -1))
        result = hb_subset.hb_subset_or_fail(source, request)
        if result == ffi.NULL:
            raise OSError(f"HarfBuzz could not subset {face.path}")
        output = hb.hb_face_reference_blob(result)
        length = ffi.new("unsigned int *")
        data = ffi.unpack(hb.hb_blob_get_data(output, length), length[0])
        hb.hb_blob_destroy(output)
        return data
    finally:
        if result != ffi.NULL:
            hb.hb_face_destroy(result)
        if request != ffi.NULL:
            hb_subset.hb_subset_input_destroy(request)
        hb.hb_face_destroy(source)
        hb.hb_blob_destroy(blob)


def _fonttools_subset(face: SystemFace, unicodes: frozenset[int]) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options(layout_features=list(LAYOUT_FEATURES), notdef_outline=True,
                             ignore_missing_unicodes=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    font = TTFont(face.path, fontNumber=face.index)
    subsetter.subset(font)
    output = io.BytesIO()
    font.save(output)
    return output.getvalue()


def _finish(data: bytes, css_family: str) -> bytes:
    """Rename the font, and number a CID-keyed CFF font's glyphs CID = glyph id.

    Only the ``name`` and ``CFF`` tables are rewritten; the others are copied as they
    are (they refer to glyphs by id, which does not change).
    """
    from fontTools.cffLib import CFFFontSet
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.tables.DefaultTable import DefaultTable

    font = TTFont(io.BytesIO(data), recalcBBoxes=False, recalcTimestamp=False)
    names = font["name"]
    postscript = re.sub(r"[^A-Za-z0-9-]", "", css_family.replace(" ", "-"))
    for record in names.names:
        if record.nameID in (1, 4, 16):
            record.string = css_family
        elif record.nameID == 6:
            record.string = postscript
    if "CFF " in font.reader.keys():
        cff = CFFFontSet()
        cff.decompile(io.BytesIO(font.reader["CFF "]), font)
        top = cff.topDictIndex[0]
        if hasattr(top, "ROS"):  # CID-keyed: CIDs kept from the original, with gaps
            old = top.charset
            new = [".notdef"] + [f"cid{gid:05d}" for gid in range(1, len(old))]
            if old != new:
                strings = top.CharStrings
                strings.charStrings = {name: strings.charStrings[was]
                                       for was, name in zip(old, new, strict=True)}
                top.charset = new
                top.CIDCount = len(new)
                output = io.BytesIO()
                cff.compile(output, font)
                table = DefaultTable("CFF ")
                table.data = output.getvalue()
                font["CFF "] = table
    output = io.BytesIO()
    font.save(output)
    return output.getvalue()

"""Photos residents and grid workers send: checked by decoding them, re-encoded without
their metadata.

A file counts as a photo only if Pillow decodes it whole as JPEG, PNG or WebP, whatever it
is called or claims to be. The stored copy is a new encoding of the pixels alone: EXIF (with
the GPS position and the phone's serial number), XMP, comments and colour profiles stay
behind; the EXIF orientation is applied first so the photo stays upright.
"""

import io
import warnings

from flask_babel import gettext as _
from PIL import Image, ImageOps

from mediation.core.errors import OperationError

MAX_PHOTOS = 6
MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; larger ones are refused before decoding
LONGEST_SIDE = 4096  # kept photos are scaled down to this
# Pillow's name of each format taken, and the stored file's extension.
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def clean_photo(data: bytes) -> tuple[bytes, str]:
    """The photo re-encoded without metadata, and its extension; OperationError if ``data``
    is not a JPEG, PNG or WebP image within the limits."""
    if not data:
        raise OperationError(_("A photo file is empty."), field="photos")
    if len(data) > MAX_BYTES:
        raise OperationError(_("A photo is larger than %(mb)d MB: send a smaller one.",
                               mb=MAX_BYTES // (1024 * 1024)), field="photos")
    not_a_photo = OperationError(_("A file is not a photo (JPEG, PNG or WebP) or is damaged. "
                                   "Nothing was sent: choose your photos again."),
                                 field="photos")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise OperationError(_("A photo has too many pixels: send a smaller one."),
                                         field="photos")
                image.load()
                kind = image.format
                upright = ImageOps.exif_transpose(image)
    except OperationError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        raise not_a_photo from None
    return _encode(upright, kind), FORMATS[kind]


class PhotoRefused(OperationError):
    """A photo refused, with its place among those sent (from 1), for an answer that can
    name it (the API); the message and field are the check's own."""

    def __init__(self, error: OperationError, position: int):
        super().__init__(error.message, field=error.field)
        self.position = position


def clean_photos(contents: list[bytes]) -> list[tuple[bytes, str]]:
    """Every photo cleaned before any is kept; the first refused one raises PhotoRefused."""
    cleaned = []
    for position, content in enumerate(contents, start=1):
        try:
            cleaned.append(clean_photo(content))
        except OperationError as error:
            raise PhotoRefused(error, position) from None
    return cleaned


def _encode(image: Image.Image, kind: str) -> bytes:
    if kind == "JPEG":
        image = image.convert("L" if image.mode in ("1", "L") else "RGB")
    elif image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA" if "A" in image.mode or "transparency" in image.info
                              else "RGB")
    else:
        image = image.copy()
    image.info = {}  # no comment, colour profile or transparency key carried over
    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    out = io.BytesIO()
    options = {"JPEG": {"quality": 85, "optimize": True}, "PNG": {"optimize": True},
               "WEBP": {"quality": 85}}[kind]
    image.save(out, format=kind, **options)
    return out.getvalue()


THUMBNAIL_SIDE = 320


def thumbnail(data: bytes) -> bytes:
    """A small JPEG of a stored photo (already checked and cleaned when it was kept)."""
    with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
        small = image.convert("RGB")
        small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=80)
    return out.getvalue()

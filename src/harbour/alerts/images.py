"""Photos on drug alerts: JPEG or PNG only, small, and nothing kept but the picture's pixels.

A phone's photo of a baggie can carry where and when it was taken, the phone's make and serial
number (Exif, XMP), a thumbnail of the uncropped picture, and anything at all appended after
the image data or hidden in a private segment or chunk. Copying the "picture" segments of the
file keeps those hiding places, so the photo is decoded with Pillow and its pixels written to
a new file: nothing of the original bytes survives, only what a viewer would see.

The decoder only runs on small inputs: at most ``MAX_BYTES`` of file, ``MAX_SIDE`` pixels a side
and ``MAX_PIXELS`` in all (read from the header before any pixel is decoded, so a
"decompression bomb" is refused before it can fill the memory). What is kept is at most
``KEEP_SIDE`` pixels a side, turned upright as the phone meant it (its Exif orientation).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 1_500_000
MAX_SIDE = 8000
MAX_PIXELS = 40_000_000
KEEP_SIDE = 2048
JPEG, PNG = "image/jpeg", "image/png"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ImageRejected(ValueError):
    """``code``: not-an-image, too-large, too-big, broken."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CleanImage:
    content_type: str
    width: int
    height: int
    data: bytes


def _decode(data: bytes, kind: str) -> Image.Image:
    """The first frame's pixels, upright, at most KEEP_SIDE a side; ImageRejected otherwise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # e.g. "Corrupt EXIF data": dropped anyway
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=["JPEG" if kind == JPEG else "PNG"])
            width, height = image.size
            if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                raise ImageRejected("too-big")
            if kind == JPEG:  # decode at a reduced scale when the picture is large (cheap)
                image.draft("RGB", (KEEP_SIDE, KEEP_SIDE))
            image.load()
            upright = ImageOps.exif_transpose(image) or image
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRejected("too-big") from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageRejected("broken") from exc
    if upright.width > KEEP_SIDE or upright.height > KEEP_SIDE:
        upright = upright.copy()
        upright.thumbnail((KEEP_SIDE, KEEP_SIDE))
    return upright


def _encode(image: Image.Image, kind: str) -> bytes:
    """A new file from the pixels alone: no Exif, XMP, ICC profile, comment, text chunk or
    anything after the image data."""
    if kind == JPEG:
        mode = "L" if image.mode in ("1", "L", "I;16") else "RGB"
    else:
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        mode = "RGBA" if has_alpha else "RGB"
    pixels = image.convert(mode)
    # a new image from the raw pixels: Pillow writes some of an image's ``info`` (a JPEG
    # comment, an ICC profile) back when it saves, and this one has none
    fresh = Image.frombytes(mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if kind == JPEG:
        fresh.save(out, format="JPEG", quality=85, optimize=True)
    else:
        fresh.save(out, format="PNG", optimize=True)
    return out.getvalue()


def clean(data: bytes) -> CleanImage:
    """The photo re-drawn from its pixels alone, or ImageRejected saying why not."""
    if len(data) > MAX_BYTES:
        raise ImageRejected("too-large")
    if data.startswith(b"\xff\xd8\xff"):
        kind = JPEG
    elif data.startswith(_PNG_SIGNATURE):
        kind = PNG
    else:
        raise ImageRejected("not-an-image")
    image = _decode(data, kind)
    return CleanImage(kind, image.width, image.height, _encode(image, kind))

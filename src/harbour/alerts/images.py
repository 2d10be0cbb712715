"""Photos on drug alerts: JPEG or PNG only, small, and stripped of everything but the picture.

A phone's photo of a baggie can carry where and when it was taken, the phone's make and serial
number (Exif, XMP), even a thumbnail of the uncropped picture. Before a photo is kept, every
metadata segment (JPEG) or chunk (PNG) is dropped, keeping only what draws the image. Pure
Python, no Django and no imaging library: the picture itself is not decoded or re-encoded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAX_BYTES = 1_500_000
MAX_SIDE = 8000
JPEG, PNG = "image/jpeg", "image/png"


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


# JPEG markers kept before the image data: JFIF (APP0), ICC colour profiles (APP2
# "ICC_PROFILE"), Adobe's colour transform (APP14 "Adobe"), and every non-APP segment (tables,
# frame headers). Everything else in APP1–APP15 (Exif, XMP, maker notes, thumbnails) and
# comments (COM) goes.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(data: bytes) -> CleanImage:
    out = bytearray(b"\xff\xd8")
    position, width, height = 2, 0, 0
    while True:
        if position + 4 > len(data) or data[position] != 0xFF:
            raise ImageRejected("broken")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            out += data[position : position + 2]
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise ImageRejected("broken")
        segment = data[position:end]
        payload = segment[4:]
        if marker in _SOF and len(payload) >= 5:
            height, width = struct.unpack(">HH", payload[1:5])
        keep = not (0xE1 <= marker <= 0xEF or marker == 0xFE)
        if marker == 0xE2 and payload.startswith(b"ICC_PROFILE\x00"):
            keep = True
        if marker == 0xEE and payload.startswith(b"Adobe"):
            keep = True
        if keep:
            out += segment
        position = end
        if marker == 0xDA:  # start of scan: the image data follows, up to the end
            out += data[position:]
            break
    if not width or not height:
        raise ImageRejected("broken")
    return CleanImage(JPEG, width, height, bytes(out))


# PNG chunks that draw the picture; text (tEXt, zTXt, iTXt), Exif (eXIf), time (tIME) and any
# private chunk go.
_PNG_KEEP = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP",
             b"sBIT", b"bKGD", b"pHYs"}  # fmt: skip
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png(data: bytes) -> CleanImage:
    out = bytearray(_PNG_SIGNATURE)
    position, width, height = 8, 0, 0
    while position < len(data):
        if position + 12 > len(data):
            raise ImageRejected("broken")
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            raise ImageRejected("broken")
        if kind == b"IHDR" and length >= 8:
            width, height = struct.unpack(">II", data[position + 8 : position + 16])
        if kind in _PNG_KEEP:
            out += data[position:end]
        position = end
        if kind == b"IEND":
            break
    if not width or not height or not out.endswith(b"IEND\xae\x42\x60\x82"):
        raise ImageRejected("broken")
    return CleanImage(PNG, width, height, bytes(out))


def clean(data: bytes) -> CleanImage:
    """The photo without its metadata, or ImageRejected saying why not."""
    if len(data) > MAX_BYTES:
        raise ImageRejected("too-large")
    if data.startswith(b"\xff\xd8\xff"):
        image = _jpeg(data)
    elif data.startswith(_PNG_SIGNATURE):
        image = _png(data)
    else:
        raise ImageRejected("not-an-image")
    if image.width > MAX_SIDE or image.height > MAX_SIDE:
        raise ImageRejected("too-big")
    return image

"""How a text message is sent: GSM-7 (160 characters, 153 a part when split) when every
character is in the GSM 03.38 alphabet, else UCS-2 (70, 67 a part). French accents such as
ê, â, ç or the typographic apostrophe ’ are not in GSM-7, so most French texts are UCS-2."""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = "^{}\\[~]|€\f"  # two septets each (an escape, then the character)


@dataclass(frozen=True)
class SmsSize:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # as the network counts them (septets, or UTF-16 units)
    segments: int
    per_segment: int
    outside: str  # the first characters that forced UCS-2, for the writer to see


def size(text: str) -> SmsSize:
    outside = [ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENDED]
    if not outside:
        count = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        count = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    segments = 1 if count <= single else -(-count // part)
    return SmsSize(
        encoding=encoding,
        characters=count,
        segments=segments,
        per_segment=single if segments == 1 else part,
        outside="".join(dict.fromkeys(outside))[:5],
    )

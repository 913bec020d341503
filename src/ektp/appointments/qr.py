"""QR codes for booking codes, as SVG data URLs (no inline script, allowed by img-src data:)."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg


def qr_data_url(text: str) -> str:
    """Return an SVG QR code of a text as a data: URL."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")

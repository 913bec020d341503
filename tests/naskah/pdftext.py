"""Read what a PDF says, and where, with pypdf."""

from __future__ import annotations

from io import BytesIO

from pypdf import PdfReader


def pages(pdf: bytes) -> list:
    return PdfReader(BytesIO(pdf)).pages


def text_of(pdf: bytes) -> str:
    """All the text of the document, the lines joined by spaces (words wrap across lines)."""
    return " ".join(" ".join(page.extract_text().split()) for page in pages(pdf))


def runs(pdf: bytes, page: int = 0) -> list[tuple[str, float, float, float]]:
    """Each run of text on a page: (text, x, y, font size), in the page's own units."""
    found: list[tuple[str, float, float, float]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append((text, x, y, font_size * tm[0]))

    pages(pdf)[page].extract_text(visitor_text=visit)
    return found

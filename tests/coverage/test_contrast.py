"""Zone cards keep WCAG AA contrast: the blue figure and the notes on each zone's tint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ektp

CSS = Path(ektp.__file__).parent / "coverage" / "static" / "coverage" / "coverage.css"
SITE_CSS = Path(ektp.__file__).parent / "core" / "static" / "ektp" / "ektp.css"


def luminance(colour: str) -> float:
    value = colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def declared(css: str, selector: str, prop: str) -> str:
    """Return the hex value of a property in the rule that names exactly this selector."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        if selector in [s.strip() for s in selectors.split(",")]:
            found = re.search(rf"(?:^|;)\s*{prop}\s*:\s*(#[0-9a-fA-F]{{6}}|var\(--[a-z]+\))", body)
            if found:
                value = found[1]
                return site_colour(value[6:-1]) if value.startswith("var(") else value
    raise AssertionError(f"{selector} declares no {prop}")


def site_colour(name: str) -> str:
    return re.search(rf"--{name}:(#[0-9a-fA-F]{{6}})", SITE_CSS.read_text())[1]


def test_contrast_formula_matches_known_pairs():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("zone", ["hijau", "kuning", "merah", "tanpa_data"])
def test_zone_card_text_passes_wcag_aa(zone):
    css = CSS.read_text()
    background = declared(css, f".figure.zone-{zone}", "background")
    figure = declared(css, f".figure.zone-{zone} strong", "color")
    text = declared(css, f".figure.zone-{zone}", "color")
    warning = declared(css, ".figure .warning", "color")
    for colour in (figure, text, warning, site_colour("muted")):
        assert contrast(colour, background) >= 4.5, (zone, colour, background)


@pytest.mark.parametrize("zone", ["hijau", "merah", "tanpa_data"])
def test_zone_badges_white_text_passes_wcag_aa(zone):
    css = CSS.read_text()
    background = declared(
        css, f"span.zone-{zone}" if zone == "tanpa_data" else f".zone-{zone}", "background"
    )
    assert contrast("#ffffff", background) >= 4.5

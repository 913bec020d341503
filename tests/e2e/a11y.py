"""axe-core's colour-contrast and form-label rules on the page a browser test shows.

The axe-core script is the copy shipped inside axe-playwright-python: no network at test time.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

# Contrast, and a name for every field, button, link and image (WCAG 2 A/AA).
RULES = (
    "color-contrast",
    "label",
    "select-name",
    "aria-input-field-name",
    "form-field-multiple-labels",
    "button-name",
    "input-button-name",
    "link-name",
    "image-alt",
    "input-image-alt",
    "svg-img-alt",
)

_axe = Axe()


def violations(page, rules: tuple[str, ...] = RULES) -> list[str]:
    """Run the rules on the current page; return one readable line per kind of failing element
    (rule, element, why; how many such elements and where the first one is)."""
    options = {"runOnly": {"type": "rule", "values": list(rules)}, "resultTypes": ["violations"]}
    found = _axe.run(page, options=options).response["violations"]
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for violation in found:
        for node in violation["nodes"]:
            checks = node.get("any", []) + node.get("all", []) + node.get("none", [])
            why = checks[0]["message"] if checks else violation["help"]
            key = (violation["id"], node["html"][:120], why)
            grouped.setdefault(key, []).append(" ".join(str(part) for part in node["target"]))
    return [
        f"{rule}: {html} — {why} ({len(targets)}×, first at {targets[0]})"
        for (rule, html, why), targets in grouped.items()
    ]


def assert_accessible(page, rules: tuple[str, ...] = RULES) -> None:
    """Fail with the list of contrast and label violations on the current page."""
    found = violations(page, rules)
    assert not found, f"axe-core on {page.url}:\n" + "\n".join(found)

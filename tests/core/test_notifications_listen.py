"""Domain apps record what happened and never call notifications: notifications listen.

Every module of a domain app is read with ast (no import is run), and every import in it is
checked, at the top of the module or inside a function, so that a lazy import cannot slip by.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "ektp"
DOMAIN_APPS = [
    "appointments",
    "cards",
    "coverage",
    "dedup",
    "enrollment",
    "offices",
    "outreach",
    "portal",
    "regions",
    "residents",
    "suket",
]
FORBIDDEN = "ektp.notifications"


def imported_modules(tree: ast.AST, *, package: str) -> list[tuple[int, str]]:
    """Return (line, module) for every import in the tree, relative ones made absolute."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # `from ektp import notifications` names the package in the alias, not the module
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def notifications_imports(tree: ast.AST, *, package: str) -> list[tuple[int, str]]:
    """Return (line, module) for each import of ektp.notifications in the tree."""
    return [
        (line, module)
        for line, module in imported_modules(tree, package=package)
        if module == FORBIDDEN or module.startswith(FORBIDDEN + ".")
    ]


@pytest.mark.parametrize("app", DOMAIN_APPS)
def test_domain_app_never_imports_notifications(app):
    app_dir = SOURCE / app
    assert app_dir.is_dir(), f"{app} is not an app under {SOURCE}"
    offences = []
    for path in sorted(app_dir.rglob("*.py")):
        relative = path.relative_to(SOURCE.parent)
        package = ".".join(relative.with_suffix("").parts[:-1])
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offences += [
            f"{relative}:{line} {module}"
            for line, module in notifications_imports(tree, package=package)
        ]
    assert offences == []


@pytest.mark.parametrize(
    "source",
    [
        "from ektp.notifications.events import notify_booking",
        "import ektp.notifications.services",
        "from ektp import notifications",
        "def later():\n    from ektp.notifications import services\n",
        "class Holder:\n    def later(self):\n        import ektp.notifications\n",
    ],
)
def test_the_check_sees_every_way_of_importing_notifications(source):
    assert notifications_imports(ast.parse(source), package="ektp.someapp")


def test_the_check_sees_a_relative_import_from_a_sibling_app():
    tree = ast.parse("from ..notifications import events")
    assert notifications_imports(tree, package="ektp.someapp") == [
        (1, "ektp.notifications"),
        (1, "ektp.notifications.events"),
    ]


@pytest.mark.parametrize(
    "source",
    [
        "from ektp.notifications_archive import x",
        "from ektp.core.formats import tanggal",
        "import notifications",
    ],
)
def test_the_check_lets_other_imports_through(source):
    assert notifications_imports(ast.parse(source), package="ektp.someapp") == []

"""No module of ours uses a private (_underscore) name of a library: the next upgrade of the
library may rename or drop it without a word."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
OURS = "ektp"


def _third_party(module: str) -> bool:
    root = module.split(".")[0]
    return root != OURS and root not in sys.stdlib_module_names and root != "__future__"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_module(name: str) -> bool:
    """Tell whether a dotted name is a module or package, from the files alone (importing
    it to find out would run a library's code before Django is set up)."""
    top, *parts = name.split(".")
    try:
        spec = importlib.util.find_spec(top)  # a top-level name is looked up, not imported
    except (ImportError, ValueError):
        return False
    places = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        packages = [place / part for place in places if (place / part).is_dir()]
        files = [
            f for place in places for f in place.glob(f"{part}.*") if f.suffix in (".py", ".so")
        ]
        if last and (packages or files):
            return True
        places = packages
    return False


def private_uses(source: str, filename: str = "<source>") -> list[str]:
    """Return "line: what" for each private name of a third-party module the source uses:
    `from lib import _name`, or `lib._name` (also `lib.sub._name`) on an imported module."""
    tree = ast.parse(source, filename)
    modules: dict[str, str] = {}  # local name -> third-party module it is bound to
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _third_party(alias.name):
                    if alias.asname:
                        modules[alias.asname] = alias.name
                    else:
                        root = alias.name.split(".")[0]
                        modules[root] = root
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not _third_party(node.module):
                continue
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
                elif _is_module(f"{node.module}.{alias.name}"):
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain = []
        root = node
        while isinstance(root, ast.Attribute):
            chain.append(root.attr)
            root = root.value
        if isinstance(root, ast.Name) and root.id in modules and _private(node.attr):
            path = ".".join([root.id, *reversed(chain)])
            found.append(f"{node.lineno}: {path} ({modules[root.id]})")
    return sorted(found, key=lambda use: int(use.split(":")[0]))


def test_the_check_finds_private_names_and_lets_public_ones_pass():
    source = (
        "import django_ratelimit.core as rl\n"
        "from django_ratelimit.core import _split_rate, get_usage\n"
        "from django.db.backends import utils\n"
        "import lmdb\n"
        "from ektp.core import _ours\n"
        "import os\n"
        "rl._get_window(1, 2)\n"
        "utils._private\n"
        "lmdb.sub._hidden\n"
        "os._exit\n"
        "rl.__name__\n"
        "get_usage(model._meta)\n"
    )
    found = private_uses(source)
    assert found == [
        "2: from django_ratelimit.core import _split_rate",
        "7: rl._get_window (django_ratelimit.core)",
        "8: utils._private (django.db.backends.utils)",
        "9: lmdb.sub._hidden (lmdb)",
    ]


def test_no_module_uses_a_private_name_of_a_library():
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for use in private_uses(path.read_text(encoding="utf-8"), str(path)):
            found.append(f"{path.relative_to(SRC)}:{use}")
    assert found == []

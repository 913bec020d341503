"""Region boundaries for maps, converted once from cahyadsn/wilayah_boundaries (MIT).

The source rows are (kode, nama, lat, lng, path) with `path` a JSON list of rings
of [lat, lng] pairs; here every ring is stored as [lng, lat] (the GeoJSON order),
rounded and thinned so that the shipped file stays small."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "boundaries.json.gz"
ROW = re.compile(
    r"\('(?P<code>[\d.]+)','(?P<name>(?:[^'\\]|\\.)*)',(?P<lat>-?[\d.]+),(?P<lng>-?[\d.]+),'(?P<path>\[.*?\])'\)"
)
DECIMALS = {2: 3, 3: 4, 4: 4}  # ~110 m for kab/kota, ~11 m for kecamatan and desa


def _rings(node) -> Iterator[list]:
    """Yield every ring (a list of [lat, lng] pairs) at any depth of nesting."""
    if node and isinstance(node[0], (int, float)):
        return
    if node and isinstance(node[0], list) and node[0] and isinstance(node[0][0], (int, float)):
        yield node
        return
    for child in node:
        yield from _rings(child)


def _thin(ring: list, decimals: int) -> list[list[float]]:
    out: list[list[float]] = []
    for lat, lng in ring:
        point = [round(lng, decimals), round(lat, decimals)]
        if not out or out[-1] != point:
            out.append(point)
    return out if len(out) >= 4 else []


def parse_sql(path: Path) -> Iterator[tuple[str, dict]]:
    """Yield (code, feature) for every boundary row of a wilayah_boundaries SQL dump."""
    for match in ROW.finditer(path.read_text(encoding="utf-8")):
        code = match["code"]
        decimals = DECIMALS.get(code.count(".") + 1, 4)
        rings = [
            r for r in (_thin(ring, decimals) for ring in _rings(json.loads(match["path"]))) if r
        ]
        yield (
            code,
            {
                "n": match["name"].replace("\\'", "'"),
                "c": [round(float(match["lng"]), 4), round(float(match["lat"]), 4)],
                "r": rings,
            },
        )


def convert(source: Path, target: Path = DATA_FILE) -> int:
    """Convert every SQL dump under `source` into the compact gzip JSON file; return the count."""
    features: dict[str, dict] = {}
    for path in sorted(source.rglob("*.sql")):
        features.update(parse_sql(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(target, "wt", encoding="utf-8", compresslevel=9) as out:
        json.dump(features, out, separators=(",", ":"), sort_keys=True)
    return len(features)


@lru_cache(maxsize=1)
def load() -> dict[str, dict]:
    """Return the shipped boundaries by region code ({} when the file is absent)."""
    if not DATA_FILE.exists():
        return {}
    with gzip.open(DATA_FILE, "rt", encoding="utf-8") as src:
        return json.load(src)


def children_shapes(code: str, level: int) -> dict[str, dict]:
    """Return the shapes of the regions of a level inside a region ("" = everywhere)."""
    prefix = code + "." if code else ""
    dots = level - 1
    return {c: f for c, f in load().items() if c.startswith(prefix) and c.count(".") == dots}

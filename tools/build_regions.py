"""Convert the Kemendagri region dumps in shared/data/wilayah into ektp's data file.

Run once when the source data changes:

    python tools/build_regions.py ../shared/data/wilayah src/ektp/regions/data

Writes `wilayah.tsv.gz` (code, name, population male, population female, valid_to)
sorted by code, `wilayah-2020.tsv.gz` (code, name: the whole 2020 edition, for
`ektp regions diff 2020 2025`), and copies the MIT notice next to it. Codes present in the 2020
edition but not in the current one are kept with `valid_to` set, so that the NIK
prefix of a resident first registered in an old or split region is still known.
"""

from __future__ import annotations

import gzip
import re
import shutil
import sys
from pathlib import Path

ROW = re.compile(r"^\('([0-9.]+)', ?'((?:[^'\\]|\\.|'')*)'(?:,'(\d+)','(\d+)','(\d+)')?\)[,;]")
CURRENT_EDITION_FROM = "2025-01-01"


def parse(path: Path) -> dict[str, tuple[str, int | None, int | None]]:
    """Return code -> (name, male, female) for every row of a dump."""
    rows: dict[str, tuple[str, int | None, int | None]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line.strip())
        if not match:
            continue
        code, name, male, female, _total = match.groups()
        name = name.replace("''", "'").replace("\\'", "'").strip()
        rows[code] = (name, int(male) if male else None, int(female) if female else None)
    return rows


def main(source: Path, target: Path) -> None:
    """Write the compact data file and its notice."""
    current = parse(source / "wilayah.sql")
    population = parse(source / "wilayah_penduduk.sql")
    old = parse(source / "wilayah_2020.sql")
    target.mkdir(parents=True, exist_ok=True)
    lines = []
    for code in sorted(set(current) | {c for c in old if c.count(".") <= 2}):
        if code in current:
            name, valid_to = current[code][0], ""
        else:
            name, valid_to = old[code][0], CURRENT_EDITION_FROM
        _, male, female = population.get(code, ("", None, None))
        lines.append("\t".join([code, name, str(male or ""), str(female or ""), valid_to]))
    with gzip.open(target / "wilayah.tsv.gz", "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write("\n".join(lines) + "\n")
    snapshot = [f"{code}\t{old[code][0]}" for code in sorted(old)]
    with gzip.open(target / "wilayah-2020.tsv.gz", "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write("\n".join(snapshot) + "\n")
    shutil.copy(source / "LICENSE", target / "LICENSE-wilayah")
    print(f"{len(lines)} regions written to {target / 'wilayah.tsv.gz'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

"""Propose a change set from two yearly snapshots of the Kemendagri codes (no crosswalk).

- same code, other name → rename (a name that differs only in case, spaces or punctuation,
  "KAB. ACEH SELATAN" / "Kabupaten Aceh Selatan", is counted apart as a respelling);
- a code gone whose region reappears under a new code, matched by name within the new
  parent (the parent's own match, or for a province or kab/kota that moved to a new
  province, the one new code of that level with the same name) → move;
- a code gone and not matched → retire (listed for a person to decide);
- a new code not matched → new (under a parent that existed before: a split or a desa
  persiapan become definitive, which the lists cannot tell apart; listed as such).
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ektp.regions import codes

SHIPPED = {"2020": "wilayah-2020.tsv.gz", "2025": "wilayah.tsv.gz"}


def _lines(path_or_edition: str):
    if path_or_edition in SHIPPED:
        data = resources.files("ektp.regions") / "data" / SHIPPED[path_or_edition]
        with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
            yield from fh
        return
    path = Path(path_or_edition)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        yield from fh


def read_snapshot(path_or_edition: str) -> dict[str, str]:
    """Read code → name from a shipped edition ("2020", "2025") or a TSV file (code, name, …;
    rows with a fifth column, an end of validity, are not part of the edition)."""
    rows = {}
    for line in _lines(path_or_edition):
        cells = line.rstrip("\n").split("\t")
        if len(cells) < 2 or not codes.is_valid_code(cells[0]):
            continue
        if len(cells) >= 5 and cells[4]:
            continue
        rows[cells[0]] = cells[1]
    return rows


def name_key(name: str) -> str:
    """A name for matching: letters and digits only, any case, "kab." for "kabupaten"."""
    key = re.sub(r"[^0-9a-z]", "", name.casefold())
    return "kab" + key[len("kabupaten") :] if key.startswith("kabupaten") else key


@dataclass
class Proposal:
    renames: list[tuple[str, str, str]] = field(default_factory=list)  # code, old, new
    respellings: list[tuple[str, str, str]] = field(default_factory=list)
    moves: list[tuple[str, str, str]] = field(default_factory=list)  # old, new, name
    retired: list[tuple[str, str]] = field(default_factory=list)
    new: list[tuple[str, str, bool]] = field(default_factory=list)  # code, name, parent existed

    def counts(self) -> dict[str, Counter]:
        by = defaultdict(Counter)
        for code, *_ in self.renames:
            by["rename"][codes.level_of(code)] += 1
        for code, *_ in self.respellings:
            by["respell"][codes.level_of(code)] += 1
        for old, *_ in self.moves:
            by["move"][codes.level_of(old)] += 1
        for code, _ in self.retired:
            by["retire"][codes.level_of(code)] += 1
        for code, _, existed in self.new:
            by["new_under_old_parent" if existed else "new_under_new_parent"][
                codes.level_of(code)
            ] += 1
        return by

    def summary_lines(self) -> list[str]:
        levels = {1: "provinsi", 2: "kab/kota", 3: "kecamatan", 4: "desa/kel"}
        lines = []
        for op, counter in sorted(self.counts().items()):
            detail = ", ".join(f"{levels[lv]} {n}" for lv, n in sorted(counter.items()))
            lines.append(f"{op}: {sum(counter.values())} ({detail})")
        villages = sum(1 for old, *_ in self.moves if codes.level_of(old) == codes.DESA)
        gone_villages = villages + sum(
            1 for c, _ in self.retired if codes.level_of(c) == codes.DESA
        )
        lines.append(
            f"desa/kel berkode baru yang cocok menurut nama: {villages} dari {gone_villages} "
            "kode desa yang hilang"
        )
        return lines


def diff_snapshots(old: dict[str, str], new: dict[str, str]) -> Proposal:
    """Compare two snapshots and propose the operations between them."""
    out = Proposal()
    for code in sorted(set(old) & set(new)):
        if old[code] != new[code]:
            target = out.respellings if name_key(old[code]) == name_key(new[code]) else out.renames
            target.append((code, old[code], new[code]))
    gone = sorted(set(old) - set(new), key=lambda c: (codes.level_of(c), c))
    added = set(new) - set(old)
    by_parent: dict[tuple[str | None, str], list[str]] = defaultdict(list)
    by_level: dict[tuple[int, str], list[str]] = defaultdict(list)
    for code in added:
        key = name_key(new[code])
        by_parent[(codes.parent_code(code), key)].append(code)
        by_level[(codes.level_of(code), key)].append(code)
    matched: dict[str, str] = {}
    taken: set[str] = set()
    for code in gone:
        key, parent = name_key(old[code]), codes.parent_code(code)
        new_parent = matched.get(parent) or (parent if parent in new else None)
        candidates = [c for c in by_parent.get((new_parent, key), []) if c not in taken]
        if not candidates and codes.level_of(code) <= codes.KABKOTA:
            candidates = [
                c for c in by_level.get((codes.level_of(code), key), []) if c not in taken
            ]
        if len(candidates) == 1:
            matched[code] = candidates[0]
            taken.add(candidates[0])
    out.moves = [(o, n, new[n]) for o, n in matched.items()]
    out.retired = [(c, old[c]) for c in gone if c not in matched]
    out.new = [
        (c, new[c], codes.parent_code(c) in old)
        for c in sorted(added - taken, key=lambda c: (codes.level_of(c), c))
    ]
    return out


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def to_yaml(p: Proposal, *, number: str = "USULAN", effective: str = "2025-01-01") -> str:
    """Write the proposal as a change set for a person to review (regions.changeset)."""
    out = [
        "# Usulan dari `ektp regions diff`: periksa sebelum diterapkan.",
        "decree:",
        f"  number: {_q(number)}",
        f"  date: {effective}",
        f"  effective: {effective}",
        "operations:",
    ]
    moves = {codes.level_of(o): [] for o, *_ in p.moves}
    for old, new, name in p.moves:
        moves[codes.level_of(old)].append((old, new, name))
    news = defaultdict(list)
    for code, name, existed in p.new:
        news[codes.level_of(code)].append((code, name, existed))
    for level in (1, 2, 3, 4):  # parents before children
        for code, name, existed in news.get(level, []):
            why = "  # pemekaran atau desa definitif?" if existed else ""
            out += [f"  - op: new{why}", f"    code: {_q(code)}", f"    name: {_q(name)}"]
        for old, new, name in moves.get(level, []):
            out += ["  - op: move", f"    code: {_q(old)}", f"    new_code: {_q(new)}"]
            out.append(f"    name: {_q(name)}")
    for code, _, new in [*p.renames, *p.respellings]:
        out += ["  - op: rename", f"    code: {_q(code)}", f"    name: {_q(new)}"]
    out.append("  # Tidak cocok menurut nama: putuskan sendiri (retire, merge atau move).")
    for code, name in sorted(p.retired, key=lambda r: (-codes.level_of(r[0]), r[0])):
        out += [f"  - op: retire  # {name}", f"    code: {_q(code)}"]
    return "\n".join(out) + "\n"

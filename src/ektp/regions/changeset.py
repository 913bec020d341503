"""The change set: one region change decree (Kepmendagri) as a small YAML file.

JSON is YAML too, so a JSON file with the same keys is read the same way. Every scalar is
read as text (a code such as ``18.09`` is never a number); dates are ``YYYY-MM-DD``.

.. code-block:: yaml

    decree:
      number: "100.1.1-1234/2026"     # the decree's number; one applied set per number
      date: 2026-03-02                # the day it was signed
      effective: 2026-04-01           # old codes are valid until the day before
    operations:
      - op: new                       # a region that takes no one from another
        code: 18.09.01.2020
        name: Sinar Harapan
      - op: rename                    # same code, new name (the addresses below it change)
        code: 18.09.01.2001
        name: Kurungan Nyawa Baru
      - op: retire                    # ends a region that holds no one
        code: 18.09.01.2019
      - op: split                     # the parent gives some of its area to new children
        from: 18.09.01.2002
        retire_parent: false          # true: the parent ends; every resident must go to a part
        into:
          - code: 18.09.01.2021
            name: Sukamaju
            dusun: [III, IV]          # the dusun (the resident's street "DUSUN III")
            rw: ["005"]               # whole RW
            rt: ["001/006"]           # single RT as "RT/RW"
      - op: merge                     # several regions become one (an existing one or a new one)
        from: [18.09.01.2003, 18.09.01.2004]
        into: 18.09.01.2003
        name: Bogorejo Raya           # optional for an existing target, required for a new one
      - op: move                      # a region re-coded under another parent (one region;
        code: 18.09.01.2005           # list its children too when it has any)
        new_code: 18.09.02.2030
        name: Wiyono                  # optional: the old name is kept

Bad input is refused as a whole, with every problem found and the line it is on; the
checks against the database (unknown codes, overlapping parts, residents left without a
village, a conflict with a set already applied) are in `regions.changes`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import yaml

from ektp.core.errors import DomainError
from ektp.regions import codes

OPS = ("new", "rename", "retire", "split", "merge", "move")
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"baris {self.line}: {self.message}"


class ChangeSetInvalid(DomainError, ValueError):
    """A change set refused as a whole; `problems` lists each problem with its line."""

    rule = "region_change_set_invalid"

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.line, p.message))
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"Berkas perubahan wilayah ditolak, tidak ada yang diubah:\n{lines}")


@dataclass(frozen=True)
class Part:
    """One child of a split and the area it takes: dusun names, whole RW, single RT/RW."""

    line: int
    code: str
    name: str
    dusun: tuple[str, ...] = ()
    rw: tuple[str, ...] = ()
    rt: tuple[tuple[str, str], ...] = ()  # (rt, rw)


@dataclass(frozen=True)
class Operation:
    line: int
    op: str
    code: str = ""  # new, rename, retire, move: the region; split: the parent; merge: target
    name: str = ""
    new_code: str = ""  # move
    sources: tuple[str, ...] = ()  # merge
    parts: tuple[Part, ...] = ()  # split
    retire_parent: bool = False


@dataclass(frozen=True)
class ChangeSet:
    number: str
    decided_on: dt.date
    effective_on: dt.date
    operations: tuple[Operation, ...]
    source: str
    sha256: str = field(default="")

    @property
    def retire_day(self) -> dt.date:
        """The last day an old code is valid."""
        return self.effective_on - dt.timedelta(days=1)


class _LineLoader(yaml.BaseLoader):
    """Read every scalar as text and remember the line of each mapping."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=True)
        mapping["__line__"] = node.start_mark.line + 1
        mapping["__lines__"] = {
            k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k.value, str)
        }
        return mapping


def _at(entry: dict, key: str) -> int:
    """The line of a key in a mapping (the mapping's own line when the key is missing)."""
    return entry.get("__lines__", {}).get(key, entry["__line__"])


def _date(value, line: int, label: str, problems: list[Problem]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        problems.append(Problem(line, f"{label} harus tanggal YYYY-MM-DD, bukan {value!r}."))
        return None


def _text(entry: dict, key: str, problems: list[Problem], *, required=True, limit=100) -> str:
    value = entry.get(key)
    line = _at(entry, key)
    if value is None or value == "":
        if required:
            problems.append(Problem(line, f"'{key}' wajib diisi."))
        return ""
    if not isinstance(value, str):
        problems.append(Problem(line, f"'{key}' harus teks."))
        return ""
    value = " ".join(value.split())
    if len(value) > limit:
        problems.append(Problem(line, f"'{key}' paling banyak {limit} karakter."))
    return value


def _code(entry: dict, key: str, problems: list[Problem], *, required=True) -> str:
    value = _text(entry, key, problems, required=required, limit=20)
    if value and not codes.is_valid_code(value):
        problems.append(
            Problem(
                _at(entry, key), f"'{key}' {value!r} bukan kode wilayah (contoh 18.09.01.2001)."
            )
        )
        return ""
    return value


def _number(value: str) -> str:
    return value.strip().zfill(3) if value.strip().isdigit() and len(value.strip()) <= 3 else ""


def _list(entry: dict, key: str, problems: list[Problem]) -> list[str]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(Problem(_at(entry, key), f"'{key}' harus daftar teks."))
        return []
    return [" ".join(v.split()) for v in value]


def _part(entry, line: int, problems: list[Problem]) -> Part | None:
    if not isinstance(entry, dict):
        problems.append(
            Problem(line, "Setiap bagian pemekaran harus berisi code, name dan wilayahnya.")
        )
        return None
    line = entry["__line__"]
    code, name = _code(entry, "code", problems), _text(entry, "name", problems)
    dusun = tuple(d.upper().removeprefix("DUSUN ").strip() for d in _list(entry, "dusun", problems))
    rws, rts = [], []
    for value in _list(entry, "rw", problems):
        if not _number(value):
            problems.append(Problem(line, f"RW {value!r} harus angka 1–999."))
        rws.append(_number(value))
    for value in _list(entry, "rt", problems):
        rt, _, rw = value.partition("/")
        if not _number(rt) or not _number(rw):
            problems.append(Problem(line, f"RT {value!r} harus ditulis RT/RW, misalnya 001/006."))
        rts.append((_number(rt), _number(rw)))
    if not (dusun or rws or rts):
        problems.append(Problem(line, f"Bagian {code or '?'} tidak menyebut dusun, RW atau RT."))
    unknown = set(entry) - {"__line__", "__lines__", "code", "name", "dusun", "rw", "rt"}
    if unknown:
        problems.append(Problem(line, f"Kunci tidak dikenal: {', '.join(sorted(unknown))}."))
    return Part(line, code, name, tuple(dusun), tuple(rws), tuple(rts))


KEYS = {
    "new": {"code", "name"},
    "rename": {"code", "name"},
    "retire": {"code"},
    "split": {"from", "into", "retire_parent"},
    "merge": {"from", "into", "name"},
    "move": {"code", "new_code", "name"},
}


def _operation(entry, index: int, problems: list[Problem]) -> Operation | None:
    if not isinstance(entry, dict):
        problems.append(Problem(index, "Setiap operasi harus berisi 'op' dan isinya."))
        return None
    line = entry["__line__"]
    op = entry.get("op")
    if op not in OPS:
        problems.append(Problem(line, f"Operasi {op!r} tidak dikenal (pilih: {', '.join(OPS)})."))
        return None
    unknown = set(entry) - {"__line__", "__lines__", "op"} - KEYS[op]
    if unknown:
        problems.append(
            Problem(line, f"Kunci tidak dikenal untuk {op}: {', '.join(sorted(unknown))}.")
        )
    if op in ("new", "rename"):
        return Operation(line, op, _code(entry, "code", problems), _text(entry, "name", problems))
    if op == "retire":
        return Operation(line, op, _code(entry, "code", problems))
    if op == "move":
        return Operation(
            line,
            op,
            _code(entry, "code", problems),
            _text(entry, "name", problems, required=False),
            new_code=_code(entry, "new_code", problems),
        )
    if op == "merge":
        sources = []
        for value in _list(entry, "from", problems):
            if not codes.is_valid_code(value):
                problems.append(Problem(line, f"'from' {value!r} bukan kode wilayah."))
            sources.append(value)
        if len(sources) < 2:
            problems.append(Problem(line, "Penggabungan perlu paling sedikit dua wilayah asal."))
        return Operation(
            line,
            op,
            _code(entry, "into", problems),
            _text(entry, "name", problems, required=False),
            sources=tuple(sources),
        )
    parent = _code(entry, "from", problems)
    retire = str(entry.get("retire_parent", "false")).lower()
    if retire not in ("true", "false", "ya", "tidak"):
        problems.append(Problem(line, "'retire_parent' harus true atau false."))
    into = entry.get("into")
    if not isinstance(into, list) or not into:
        problems.append(Problem(line, "'into' harus daftar bagian yang dimekarkan."))
        into = []
    parts = [_part(p, line, problems) for p in into]
    return Operation(
        line,
        op,
        parent,
        parts=tuple(p for p in parts if p is not None),
        retire_parent=retire in ("true", "ya"),
    )


def file_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_change_set(text: str) -> ChangeSet:
    """Read a change set; raise ChangeSetInvalid listing every problem of its shape."""
    problems: list[Problem] = []
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise ChangeSetInvalid([Problem(1, "Berkas lebih dari 5 MB.")])
    try:
        doc = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ChangeSetInvalid([Problem(line, f"Bukan YAML/JSON yang sah: {exc}")]) from None
    if not isinstance(doc, dict):
        raise ChangeSetInvalid([Problem(1, "Berkas harus berisi 'decree' dan 'operations'.")])
    decree = doc.get("decree")
    number, decided, effective = "", None, None
    if not isinstance(decree, dict):
        problems.append(Problem(doc["__line__"], "'decree' (number, date, effective) wajib ada."))
    else:
        number = _text(decree, "number", problems)
        decided = _date(decree.get("date"), _at(decree, "date"), "'date'", problems)
        effective = _date(
            decree.get("effective"), _at(decree, "effective"), "'effective'", problems
        )
        if decided and effective and effective < decided:
            problems.append(
                Problem(
                    _at(decree, "effective"),
                    "Tanggal berlaku tidak boleh sebelum tanggal keputusan.",
                )
            )
    entries = doc.get("operations")
    if not isinstance(entries, list) or not entries:
        problems.append(Problem(doc["__line__"], "'operations' harus daftar yang tidak kosong."))
        entries = []
    operations = [_operation(e, doc["__line__"], problems) for e in entries]
    if problems:
        raise ChangeSetInvalid(problems)
    return ChangeSet(
        number=number,
        decided_on=decided,
        effective_on=effective,
        operations=tuple(op for op in operations if op is not None),
        source=text,
        sha256=file_hash(text),
    )

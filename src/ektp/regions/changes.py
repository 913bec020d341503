"""A region change decree checked against the database, previewed and applied.

`resolve` turns a parsed change set (`regions.changeset`) into the writes it means: the
regions to create, rename and end, the lineage rows, and the rules that move residents
(all of a region, or the dusun / RW / RT of a split part). Every problem is collected with
its line; one problem refuses the whole set. `plan` counts what the writes would touch;
`apply` (in `regions.services`) makes them in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Count, Q
from django.utils import timezone

from ektp.regions import codes
from ektp.regions.changeset import ChangeSet, ChangeSetInvalid, Operation, Part, Problem
from ektp.regions.models import Region, RegionChange, RegionChangeSet


@dataclass
class Rule:
    """Residents (and families) of `source` matching `where` (None: all) go to `target`."""

    line: int
    source: str
    target: str
    where: Q | None = None

    def filter(self, qs):
        qs = qs.filter(address_region_id=self.source)
        return qs if self.where is None else qs.filter(self.where)


@dataclass
class Resolved:
    change_set: ChangeSet
    created: list[Region] = field(default_factory=list)
    renamed: dict[str, tuple[str, str]] = field(default_factory=dict)  # code: (old, new)
    retired: dict[str, str | None] = field(default_factory=dict)  # code: successor
    lineage: list[RegionChange] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    renamed_lines: dict[str, int] = field(default_factory=dict)

    @property
    def successors(self) -> dict[str, str]:
        return {old: new for old, new in self.retired.items() if new}


def part_filter(part: Part) -> Q:
    """The residents (or families) of a split part: its dusun, whole RW and single RT."""
    qs = []
    for name in part.dusun:
        qs += [Q(street__iexact=f"DUSUN {name}"), Q(street__iexact=name)]
    if part.rw:
        qs.append(Q(rw__in=list(part.rw)) | Q(rw__in=[r.lstrip("0") for r in part.rw]))
    for rt, rw in part.rt:
        qs.append(Q(rt__in=[rt, rt.lstrip("0")], rw__in=[rw, rw.lstrip("0")]))
    return reduce(or_, qs)


def in_subtree(code: str) -> Q:
    if codes.level_of(code) == codes.DESA:
        return Q(address_region_id=code)
    return Q(address_region_id__startswith=code + ".")


class _State:
    """The regions as the set leaves them, operation by operation."""

    def __init__(self, cs: ChangeSet):
        mentioned: set[str] = set()
        for op in cs.operations:
            for c in [op.code, op.new_code, *op.sources, *(p.code for p in op.parts)]:
                if c:
                    mentioned.add(c)
                    mentioned.update(codes.ancestor_codes(c))
        self.db = {r.code: r for r in Region.objects.filter(code__in=mentioned)}
        self.created: dict[str, int] = {}  # code: line
        self.ended: dict[str, int] = {}
        self.touched: dict[str, int] = {}
        # Which applied decree made or ended each code this set names.
        self.applied: dict[str, str] = {}
        done = RegionChange.objects.filter(Q(old_code__in=mentioned) | Q(new_code__in=mentioned))
        for change in done.select_related("change_set"):
            for code in (change.old_code, change.new_code):
                if code in mentioned:
                    self.applied[code] = change.change_set.number

    def current(self, code: str) -> bool:
        if code in self.ended:
            return False
        if code in self.created:
            return True
        region = self.db.get(code)
        return region is not None and region.valid_to is None

    def level(self, code: str) -> int:
        return codes.level_of(code)

    def name(self, code: str) -> str:
        region = self.db.get(code)
        return region.name if region else ""


def _touch(state: _State, code: str, line: int, problems: list[Problem]) -> None:
    if code in state.touched:
        problems.append(
            Problem(line, f"Kode {code} sudah dipakai operasi di baris {state.touched[code]}.")
        )
    state.touched[code] = line


def _existing(state: _State, code: str, line: int, problems: list[Problem]) -> bool:
    """A region that must exist and be valid now; say why not."""
    if not code:
        return False
    if state.current(code):
        return True
    if code in state.ended:
        problems.append(
            Problem(line, f"Wilayah {code} sudah diakhiri di baris {state.ended[code]}.")
        )
    elif code in state.applied and code in state.db:
        problems.append(
            Problem(
                line,
                f"Bertentangan dengan keputusan {state.applied[code]} yang sudah diterapkan: "
                f"wilayah {code} sudah tidak berlaku.",
            )
        )
    elif code in state.db:
        problems.append(Problem(line, f"Wilayah {code} sudah tidak berlaku."))
    else:
        problems.append(Problem(line, f"Kode wilayah {code} tidak dikenal."))
    return False


def _fresh(state: _State, code: str, line: int, problems: list[Problem], *, level: int) -> bool:
    """A code that must not exist yet, under a parent that exists."""
    if not code:
        return False
    ok = True
    if code in state.created:
        problems.append(Problem(line, f"Kode {code} sudah dibuat di baris {state.created[code]}."))
        ok = False
    elif code in state.applied and code in state.db:
        problems.append(
            Problem(
                line,
                f"Bertentangan dengan keputusan {state.applied[code]} yang sudah diterapkan: "
                f"kode {code} sudah dibuat olehnya.",
            )
        )
        ok = False
    elif code in state.db:
        problems.append(Problem(line, f"Kode {code} sudah ada; kode baru harus belum terpakai."))
        ok = False
    if level and codes.level_of(code) != level:
        problems.append(Problem(line, f"Kode {code} harus setingkat ({codes.LEVEL_NAMES[level]})."))
        ok = False
    parent = codes.parent_code(code)
    if parent and not state.current(parent):
        problems.append(
            Problem(line, f"Induk {parent} dari kode {code} tidak ada atau tidak berlaku.")
        )
        ok = False
    return ok


def _create(state: _State, res: Resolved, code: str, name: str, line: int) -> None:
    state.created[code] = line
    res.created.append(
        Region(
            code=code,
            level=codes.level_of(code),
            parent_id=codes.parent_code(code),
            name=name,
            valid_from=res.change_set.effective_on,
        )
    )


def _end(state: _State, res: Resolved, code: str, successor: str | None, line: int) -> None:
    state.ended[code] = line
    res.retired[code] = successor


def _residents_in(code: str) -> int:
    from ektp.residents.models import Resident

    return Resident.objects.filter(in_subtree(code)).count()


def _overlapping_parts(op: Operation, problems: list[Problem]) -> None:
    """The same dusun, RW or RT named by two parts of a split (or an RT inside another's RW)."""
    owner: dict[tuple, int] = {}
    for part in op.parts:
        keys = [("dusun", d) for d in part.dusun] + [("rw", r) for r in part.rw]
        keys += [("rt", rt, rw) for rt, rw in part.rt]
        for key in keys:
            if key in owner and owner[key] != part.line:
                problems.append(
                    Problem(
                        part.line,
                        f"Bagian tumpang tindih: {key[0]} {'/'.join(key[1:])} juga ada di bagian "
                        f"baris {owner[key]}.",
                    )
                )
            owner.setdefault(key, part.line)
    for part in op.parts:
        for rt, rw in part.rt:
            if ("rw", rw) in owner and owner[("rw", rw)] != part.line:
                problems.append(
                    Problem(
                        part.line,
                        f"Bagian tumpang tindih: RT {rt}/{rw} ada di RW {rw} milik bagian baris "
                        f"{owner[('rw', rw)]}.",
                    )
                )


def _split(state, res, op: Operation, problems) -> None:
    from ektp.residents.models import Family, Resident

    line, parent = op.line, op.code
    if not _existing(state, parent, line, problems):
        return
    if codes.level_of(parent) != codes.DESA:
        problems.append(Problem(line, "Pemekaran menurut dusun/RT/RW hanya untuk desa/kelurahan."))
        return
    for part in op.parts:
        _touch(state, part.code, part.line, problems)
        if _fresh(state, part.code, part.line, problems, level=codes.DESA):
            _create(state, res, part.code, part.name, part.line)
    _overlapping_parts(op, problems)
    parts = [p for p in op.parts if p.dusun or p.rw or p.rt]
    filters = [(p, part_filter(p)) for p in parts]
    residents = Resident.objects.filter(address_region_id=parent)
    for i, (a, qa) in enumerate(filters):  # dusun and RW may still meet in the people
        for b, qb in filters[i + 1 :]:
            both = residents.filter(qa).filter(qb).count()
            if both:
                problems.append(
                    Problem(
                        b.line,
                        f"Bagian tumpang tindih: {both} penduduk masuk bagian {a.code} (baris "
                        f"{a.line}) dan {b.code}.",
                    )
                )
    for part, where in filters:
        res.rules.append(Rule(part.line, parent, part.code, where))
        res.lineage.append(
            RegionChange(
                line=part.line,
                op=RegionChange.Op.SPLIT,
                old_code=parent,
                new_code=part.code,
                old_name=state.name(parent),
                new_name=part.name,
            )
        )
    if op.retire_parent:
        if filters:
            anyone = reduce(or_, [q for _, q in filters])
            left = residents.exclude(anyone).count()
            families = Family.objects.filter(address_region_id=parent).exclude(anyone).count()
        else:
            left = residents.count()
            families = 0
        if left or families:
            problems.append(
                Problem(
                    line,
                    f"Penduduk tanpa desa: {left} penduduk dan {families} keluarga di {parent} "
                    "tidak masuk bagian mana pun, padahal desa induk diakhiri.",
                )
            )
        _end(state, res, parent, parts[0].code if parts else None, line)
        res.lineage.append(
            RegionChange(
                line=line, op=RegionChange.Op.RETIRE, old_code=parent, old_name=state.name(parent)
            )
        )


def _merge(state, res, op: Operation, problems) -> None:
    line, target = op.line, op.code
    levels = {codes.level_of(c) for c in op.sources if codes.is_valid_code(c)}
    if len(levels) > 1:
        problems.append(Problem(line, "Wilayah yang digabung harus setingkat."))
    known = [c for c in op.sources if _existing(state, c, line, problems)]
    for code in op.sources:
        if code != target:
            _touch(state, code, line, problems)
    _touch(state, target, line, problems)
    if not target:
        return
    if state.current(target):
        if op.name and op.name != state.name(target):
            res.renamed[target] = (state.name(target), op.name)
            res.renamed_lines[target] = line
    elif _fresh(state, target, line, problems, level=levels.pop() if len(levels) == 1 else 0):
        if not op.name:
            problems.append(Problem(line, f"Wilayah gabungan baru {target} perlu 'name'."))
        _create(state, res, target, op.name, line)
    for code in known:
        if code == target:
            continue
        res.rules.append(Rule(line, code, target))
        res.lineage.append(
            RegionChange(
                line=line,
                op=RegionChange.Op.MERGE,
                old_code=code,
                new_code=target,
                old_name=state.name(code),
                new_name=op.name or state.name(target),
            )
        )
        _end(state, res, code, target, line)


def _move(state, res, op: Operation, problems) -> None:
    line = op.line
    _touch(state, op.code, line, problems)
    _touch(state, op.new_code, line, problems)
    ok = _existing(state, op.code, line, problems)
    fresh = _fresh(
        state, op.new_code, line, problems, level=codes.level_of(op.code) if op.code else 0
    )
    if not (ok and fresh):
        return
    name = op.name or state.name(op.code)
    _create(state, res, op.new_code, name, line)
    _end(state, res, op.code, op.new_code, line)
    if codes.level_of(op.code) == codes.DESA:
        res.rules.append(Rule(line, op.code, op.new_code))
    res.lineage.append(
        RegionChange(
            line=line,
            op=RegionChange.Op.MOVE,
            old_code=op.code,
            new_code=op.new_code,
            old_name=state.name(op.code),
            new_name=name,
        )
    )


def _orphans(state: _State, res: Resolved, problems: list[Problem]) -> None:
    """A region ended while current children stay under it, or residents with no village."""
    moved_all = {r.source for r in res.rules if r.where is None}
    ended_above = [c for c in res.retired if codes.level_of(c) < codes.DESA]
    if ended_above:
        children = Region.objects.filter(
            reduce(or_, [Q(parent_id=c) for c in ended_above]), valid_to__isnull=True
        ).values_list("code", "parent_id")
        for child, parent in children:
            if child not in res.retired:
                problems.append(
                    Problem(
                        state.ended[parent],
                        f"Wilayah {child} tertinggal di bawah {parent} yang diakhiri; pindahkan "
                        "atau akhiri juga.",
                    )
                )
    for code, line in state.ended.items():
        if codes.level_of(code) != codes.DESA or code in moved_all:
            continue
        if any(r.source == code for r in res.rules):
            continue  # a split that ends its parent checked its own leftovers
        left = _residents_in(code)
        if left:
            problems.append(
                Problem(
                    line,
                    f"Penduduk tanpa desa: {left} penduduk masih beralamat di {code} yang "
                    "diakhiri tanpa pengganti.",
                )
            )


def resolve(cs: ChangeSet) -> Resolved:
    """Check a change set against the regions and residents; raise ChangeSetInvalid with every
    problem, or return the writes it means."""
    problems: list[Problem] = []
    applied = RegionChangeSet.objects.filter(number=cs.number).first()
    if applied is not None and applied.file_sha256 != cs.sha256:
        problems.append(
            Problem(
                1,
                f"Bertentangan dengan keputusan {cs.number} yang sudah diterapkan "
                f"{applied.applied_at:%d-%m-%Y} dari berkas yang berbeda.",
            )
        )
    state = _State(cs)
    res = Resolved(change_set=cs)
    for op in cs.operations:
        line = op.line
        if op.op == "new":
            _touch(state, op.code, line, problems)
            if _fresh(state, op.code, line, problems, level=0):
                _create(state, res, op.code, op.name, line)
                res.lineage.append(
                    RegionChange(
                        line=line, op=RegionChange.Op.NEW, new_code=op.code, new_name=op.name
                    )
                )
        elif op.op == "rename":
            _touch(state, op.code, line, problems)
            if _existing(state, op.code, line, problems):
                old = state.name(op.code)
                if old == op.name:
                    problems.append(Problem(line, f"Nama {op.code} sudah {op.name!r}."))
                res.renamed[op.code] = (old, op.name)
                res.renamed_lines[op.code] = line
        elif op.op == "retire":
            _touch(state, op.code, line, problems)
            if _existing(state, op.code, line, problems):
                _end(state, res, op.code, None, line)
                res.lineage.append(
                    RegionChange(
                        line=line,
                        op=RegionChange.Op.RETIRE,
                        old_code=op.code,
                        old_name=state.name(op.code),
                    )
                )
        elif op.op == "split":
            _touch(state, op.code, line, problems)
            _split(state, res, op, problems)
        elif op.op == "merge":
            _merge(state, res, op, problems)
        elif op.op == "move":
            _move(state, res, op, problems)
    for code, (old, new) in res.renamed.items():
        res.lineage.append(
            RegionChange(
                line=res.renamed_lines[code],
                op=RegionChange.Op.RENAME,
                old_code=code,
                new_code=code,
                old_name=old,
                new_name=new,
            )
        )
    _orphans(state, res, problems)
    if problems:
        raise ChangeSetInvalid(problems)
    return res


# -- Impact ------------------------------------------------------------------------------------


@dataclass
class OfficeBlanks:
    kabkota: str
    office: str
    on_hand: int
    prr_waiting: int
    reprints: int

    @property
    def shortfall(self) -> int:
        return max(self.prr_waiting + self.reprints - self.on_hand, 0)


@dataclass
class Impact:
    number: str
    effective_on: dt.date
    already_applied: bool = False
    operations: dict[str, int] = field(default_factory=dict)
    regions: list[tuple[int, str, str, str]] = field(default_factory=list)  # line, op, old, new
    moves: list[tuple[int, str, str, int, int]] = field(default_factory=list)
    residents_moving: int = 0
    families_moving: int = 0
    residents_renamed: int = 0
    families_renamed: int = 0
    reprints: int = 0
    reprints_already_open: int = 0
    blanks: list[OfficeBlanks] = field(default_factory=list)
    targets: list[tuple[str, str, int, int]] = field(
        default_factory=list
    )  # name, code, before, after

    def as_dict(self) -> dict:
        return {
            "number": self.number,
            "effective_on": self.effective_on.isoformat(),
            "operations": self.operations,
            "residents_moving": self.residents_moving,
            "families_moving": self.families_moving,
            "residents_renamed": self.residents_renamed,
            "families_renamed": self.families_renamed,
            "reprints": self.reprints,
            "reprints_already_open": self.reprints_already_open,
            "blanks": [
                {
                    "kabkota": b.kabkota,
                    "on_hand": b.on_hand,
                    "prr_waiting": b.prr_waiting,
                    "reprints": b.reprints,
                    "shortfall": b.shortfall,
                }
                for b in self.blanks
            ],
            "targets": [list(t) for t in self.targets],
        }


HOLDER_STATUSES = ["CARD_PRINTED", "CARD_ISSUED"]


def affected_residents(res: Resolved):
    """The residents whose address a set changes: moved by its rules, or under a renamed region."""
    from ektp.residents.models import Resident

    qs = [Q(address_region_id=r.source) & (r.where or Q()) for r in res.rules]
    qs += [in_subtree(code) for code in res.renamed]
    if not qs:
        return Resident.objects.none()
    return Resident.objects.filter(reduce(or_, qs))


def impact(res: Resolved) -> Impact:
    """Count what applying the set would touch (nothing is written)."""
    from ektp.cards.models import Blank, ReprintRequest
    from ektp.cards.selectors import OPEN_REQUEST, prr_waiting
    from ektp.coverage.models import Target
    from ektp.offices.models import Office
    from ektp.residents.models import Family, Resident

    cs = res.change_set
    out = Impact(number=cs.number, effective_on=cs.effective_on)
    for op in cs.operations:
        out.operations[op.op] = out.operations.get(op.op, 0) + 1
    for change in res.lineage:
        out.regions.append((change.line, change.op, change.old_code, change.new_code))
    delta: dict[str, int] = defaultdict(int)
    for rule in res.rules:
        people = rule.filter(Resident.objects.all())
        n = people.count()
        f = rule.filter(Family.objects.all()).count()
        out.moves.append((rule.line, rule.source, rule.target, n, f))
        out.residents_moving += n
        out.families_moving += f
        wajib = people.wajib_ktp(timezone.localdate()).count()
        delta[rule.source] -= wajib
        delta[rule.target] += wajib
    for code in res.renamed:
        out.residents_renamed += Resident.objects.filter(in_subtree(code)).count()
        out.families_renamed += Family.objects.filter(in_subtree(code)).count()
    holders = affected_residents(res).filter(ktp_status__in=HOLDER_STATUSES, life_status="hidup")
    open_ids = ReprintRequest.objects.filter(status__in=OPEN_REQUEST).values("resident")
    out.reprints_already_open = holders.filter(pk__in=open_ids).count()
    by_kab = dict(
        holders.exclude(pk__in=open_ids)
        .order_by()
        .values_list("kabkota_code")
        .annotate(n=Count("pk"))
    )
    out.reprints = sum(by_kab.values())
    for kab, n in sorted(by_kab.items()):
        office = Office.objects.filter(region_id=kab).first()
        on_hand = (
            Blank.objects.filter(office=office, state=Blank.State.IN_STOCK).count() if office else 0
        )
        out.blanks.append(
            OfficeBlanks(
                kabkota=kab,
                office=office.name if office else "-",
                on_hand=on_hand,
                prr_waiting=prr_waiting(kab).count(),
                reprints=n,
            )
        )
    touched = set(delta) | set(res.retired)
    for target in Target.objects.filter(region_id__in=touched).select_related("region"):
        before = (
            Resident.objects.wajib_ktp(timezone.localdate())
            .filter(in_subtree(target.region_id))
            .count()
        )
        after = 0 if target.region_id in res.retired else before + delta.get(target.region_id, 0)
        successor = res.successors.get(target.region_id)
        out.targets.append((target.name, successor or target.region_id, before, after))
    return out

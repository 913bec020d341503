"""Check every line of a partner file and match the people it names to residents: by NIK,
else by the penunggalan's demographic model (`dedup.demographic.match_one`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from ektp.dedup.demographic import Pair, Person, find_pairs, match_one
from ektp.partners.files import Line, parse_day, text
from ektp.partners.models import Election, IkdActivation, ImportKind, Marriage, Match, StagedRow
from ektp.regions.models import Region
from ektp.residents.models import (
    RECORDED_STATUSES,
    Citizenship,
    MaritalStatus,
    Resident,
    years_ago,
)
from ektp.residents.nik import InvalidNumber, parse_nik

CHUNK = 2000
# Residents born on one day in one district: more than this and the name alone decides
# nothing; the demographic check reads this many at most.
MAX_CANDIDATES = 500
EARLIEST_BIRTH = dt.date(1900, 1, 1)
# Up to this many records are checked one by one (match_one); more in one scan (find_pairs).
FEW = 20
IKD_CHANNELS = {"loket": "loket", "jemput_bola": "jemput_bola", "jemput bola": "jemput_bola"}


@dataclass
class Someone:
    """One person named on a line, as read before matching."""

    line: int
    role: str
    nik: str
    name: str
    birth_date: dt.date | None
    birth_place: str
    sex: str
    data: dict
    problem: str = ""
    row: StagedRow | None = None
    extra: dict = field(default_factory=dict)


class Checker:
    """Turns the lines of one file into staged rows for one district on one day."""

    def __init__(self, *, kind: str, kabkota: str, today: dt.date, election: Election | None):
        self.kind = kind
        self.kabkota = kabkota
        self.today = today
        self.election = election
        self.villages = set(
            Region.objects.filter(
                level=Region.Level.DESA, code__startswith=kabkota + ".", valid_to__isnull=True
            ).values_list("code", flat=True)
        )

    # ---------------------------------------------------------------- reading one line

    def _nik(self, value, problems: list[str], what: str = "NIK") -> str:
        raw = text(value, 40)
        if not raw:
            return ""
        try:
            return parse_nik(raw)
        except InvalidNumber as exc:
            problems.append(f"{what}: {exc.message}")
            return ""

    def _date(self, value, problems: list[str], what: str, *, birth: bool = False):
        try:
            day = parse_day(value)
        except ValueError as exc:
            problems.append(f"{what}: {exc}.")
            return None
        if day > self.today:
            problems.append(f"{what} {day:%d-%m-%Y} di masa depan.")
            return None
        if birth and day < EARLIEST_BIRTH:
            problems.append(f"{what} sebelum tahun 1900 tidak diterima.")
            return None
        return day

    def _village(self, value, problems: list[str]) -> str:
        code = text(value, 20)
        if not code:
            problems.append("kode_desa kosong.")
        elif code not in self.villages:
            if code.startswith(self.kabkota + "."):
                problems.append(f"Kode desa {code} tidak dikenal atau sudah tidak berlaku.")
            else:
                problems.append(f"Desa {code} di luar wilayah kerja kantor ini ({self.kabkota}).")
        return code

    def people(self, lines: list[Line]) -> list[Someone]:
        """Read each line into the people it names, with the line's problems."""
        read = {
            ImportKind.MARRIAGES: self._marriage,
            ImportKind.VOTERS: self._voter,
            ImportKind.IKD: self._ikd,
        }[self.kind]
        seen: dict[tuple, int] = {}
        people: list[Someone] = []
        for line in lines:
            problems: list[str] = []
            found, key = read(line, problems)
            if key in seen and not problems:
                problems.append(f"Baris duplikat: sama dengan baris {seen[key]}.")
            else:
                seen.setdefault(key, line.number)
            for person in found:
                person.problem = " ".join(problems)[:300]
            people.extend(found)
        return people

    def _marriage(self, line: Line, problems: list[str]):
        c = line.cells
        certificate = text(c.get("no_akta"), 60)
        kua = text(c.get("kua"), 150).upper()
        if not certificate:
            problems.append("no_akta kosong.")
        if not kua:
            problems.append("kua kosong.")
        married_on = self._date(c.get("tanggal_nikah"), problems, "tanggal_nikah")
        village = self._village(c.get("kode_desa"), problems)
        common = {
            "no_akta": certificate,
            "kua": kua,
            "tanggal_nikah": married_on.isoformat() if married_on else "",
            "kode_desa": village,
        }
        found = []
        for role, sex in (("suami", "L"), ("istri", "P")):
            nik = self._nik(c.get(f"nik_{role}"), problems, f"nik_{role}")
            name = text(c.get(f"nama_{role}")).upper()
            if not name:
                problems.append(f"nama_{role} kosong.")
            born = self._date(
                c.get(f"tanggal_lahir_{role}"), problems, f"tanggal_lahir_{role}", birth=True
            )
            if born and married_on and born >= married_on:
                problems.append(f"tanggal_lahir_{role} tidak sebelum tanggal_nikah.")
            place = text(c.get(f"tempat_lahir_{role}"), 60).upper()
            data = {
                **common,
                "nik": nik,
                "nama": name,
                "tanggal_lahir": born.isoformat() if born else "",
                "tempat_lahir": place,
            }
            found.append(Someone(line.number, role, nik, name, born, place, sex, data))
        return found, (certificate, kua)

    def _voter(self, line: Line, problems: list[str]):
        c = line.cells
        nik = self._nik(c.get("nik"), problems)
        if not nik and not problems:
            problems.append("NIK kosong.")
        name = text(c.get("nama")).upper()
        if not name:
            problems.append("nama kosong.")
        born = self._date(c.get("tanggal_lahir"), problems, "tanggal_lahir", birth=True)
        sex = text(c.get("jenis_kelamin"), 10).upper()[:1]
        if sex not in ("L", "P"):
            problems.append("jenis_kelamin harus L atau P.")
        village = self._village(c.get("kode_desa"), problems)
        place = text(c.get("tempat_lahir"), 60).upper()
        data = {
            "nik": nik,
            "nama": name,
            "tanggal_lahir": born.isoformat() if born else "",
            "jenis_kelamin": sex,
            "kode_desa": village,
            "tempat_lahir": place,
            "tps": text(c.get("tps"), 10),
        }
        return [Someone(line.number, "pemilih", nik, name, born, place, sex, data)], nik

    def _ikd(self, line: Line, problems: list[str]):
        c = line.cells
        nik = self._nik(c.get("nik"), problems)
        if not nik and not problems:
            problems.append("NIK kosong.")
        day = self._date(c.get("tanggal_aktivasi"), problems, "tanggal_aktivasi")
        channel = IKD_CHANNELS.get(text(c.get("cara"), 20).lower())
        if channel is None:
            problems.append("cara harus loket atau jemput_bola.")
        place = text(c.get("tempat"), 150)
        if not place:
            problems.append("tempat kosong.")
        data = {
            "nik": nik,
            "tanggal_aktivasi": day.isoformat() if day else "",
            "cara": channel or "",
            "tempat": place,
        }
        return [Someone(line.number, "", nik, "", None, "", "", data)], nik

    # ---------------------------------------------------------------- matching

    def stage(self, lines: list[Line]) -> list[StagedRow]:
        """Return one unsaved staged row per person named in the file."""
        people = self.people(lines)
        for person in people:
            person.row = StagedRow(
                line=person.line,
                role=person.role,
                data=person.data,
                match=Match.INVALID if person.problem else Match.NONE,
                problem=person.problem,
            )
        valid = [p for p in people if not p.problem]
        self._match_by_nik(valid)
        if self.kind != ImportKind.IKD:
            self._match_by_dedup([p for p in valid if p.row.match == Match.NONE])
        self._changes(valid)
        return [p.row for p in people]

    def _match_by_nik(self, people: list[Someone]) -> None:
        niks = sorted({p.nik for p in people if p.nik})
        found: dict[str, Resident] = {}
        for start in range(0, len(niks), CHUNK):
            for r in Resident.objects.filter(nik__in=niks[start : start + CHUNK]):
                found[r.nik] = r
        for p in people:
            resident = found.get(p.nik) if p.nik else None
            if resident is None:
                p.row.problem = (
                    "NIK tidak terdaftar." if p.nik else "Tanpa NIK."
                ) + " Dicocokkan dengan data demografi."
                continue
            p.row.resident = resident
            if resident.kabkota_code != self.kabkota:
                p.row.match = Match.ELSEWHERE
                p.row.problem = f"NIK terdaftar di kab/kota {resident.kabkota_code}."
            else:
                p.row.match = Match.NIK
                p.row.problem = ""
                p.row.score = 1.0

    def _match_by_dedup(self, people: list[Someone]) -> None:
        """Match the people no NIK found with the penunggalan's demographic model, against the
        district's residents born the same day (the pairs the model can call one person)."""
        days = sorted({p.birth_date for p in people if p.birth_date})
        by_day: dict[dt.date, list[Resident]] = defaultdict(list)
        for start in range(0, len(days), CHUNK):
            for r in Resident.objects.filter(
                kabkota_code=self.kabkota, birth_date__in=days[start : start + CHUNK]
            ).order_by("birth_date", "nik"):
                by_day[r.birth_date].append(r)
        asked = []
        for p in people:
            if by_day.get(p.birth_date):
                asked.append(p)
            else:
                _no_match(p, "Tidak ada penduduk dengan tanggal lahir yang sama.")
        known = {str(r.pk): r for rs in by_day.values() for r in rs[:MAX_CANDIDATES]}
        # Lines born the same day go to different scans, so that a scan pairs lines with
        # residents only (never two lines of the file with each other).
        batches: dict[int, list[Someone]] = defaultdict(list)
        taken: dict[dt.date, int] = defaultdict(int)
        for p in asked:
            batches[taken[p.birth_date]].append(p)
            taken[p.birth_date] += 1
        best: dict[str, Pair] = {}
        for batch in batches.values():
            best.update(self._scored(batch, by_day))
        for p in asked:
            pair = best.get(_subject(p))
            if pair is None:
                _no_match(
                    p, "Tidak ada penduduk yang cukup mirip (nama, tanggal dan tempat lahir)."
                )
                continue
            resident_id = pair.right if pair.left == _subject(p) else pair.left
            p.row.resident = known[resident_id]
            p.row.match = Match.DEDUP
            p.row.score = round(pair.probability, 4)
            p.row.problem = ""

    def _scored(self, asked: list[Someone], by_day) -> dict[str, Pair]:
        """Return the best pair of each person: one record checked with `match_one`, many
        with one `find_pairs` over them and their candidates (the same model and scores)."""
        if len(asked) <= FEW:
            best = {}
            for p in asked:
                candidates = [_person(r) for r in by_day[p.birth_date][:MAX_CANDIDATES]]
                pairs = match_one(_someone(p), candidates)
                if pairs:
                    best[_subject(p)] = pairs[0]
            return best
        records = {_subject(p): _someone(p) for p in asked}
        for p in asked:
            for r in by_day[p.birth_date][:MAX_CANDIDATES]:
                records.setdefault(str(r.pk), _person(r))
        rows = [
            (x.id, x.name, x.mother_name, x.birth_place, x.birth_date, x.sex)
            for x in records.values()
        ]
        best: dict[str, Pair] = {}
        for pair in find_pairs(rows):
            left_staged, right_staged = (
                pair.left.startswith("baris-"),
                pair.right.startswith("baris-"),
            )
            if left_staged == right_staged:  # two residents, or two lines: not asked here
                continue
            subject = pair.left if left_staged else pair.right
            if subject not in best or pair.probability > best[subject].probability:
                best[subject] = pair
        return best

    def _changes(self, people: list[Someone]) -> None:
        matched = [p for p in people if p.row.match in (Match.NIK, Match.DEDUP)]
        change = {
            ImportKind.MARRIAGES: self._marriage_change,
            ImportKind.VOTERS: self._voter_change,
            ImportKind.IKD: self._ikd_change,
        }[self.kind]
        known = set()
        if self.kind == ImportKind.MARRIAGES:
            known = set(
                Marriage.objects.filter(
                    certificate__in={p.data["no_akta"] for p in matched}
                ).values_list("certificate", "kua")
            )
        elif self.kind == ImportKind.IKD:
            ids = [p.row.resident.pk for p in matched]
            known = set()
            for start in range(0, len(ids), CHUNK):
                known |= set(
                    IkdActivation.objects.filter(
                        resident_id__in=ids[start : start + CHUNK]
                    ).values_list("resident_id", flat=True)
                )
        for p in matched:
            p.row.changes = change(p, p.row.resident, known)
            if p.row.changes.get("refused"):
                p.row.problem = p.row.changes.pop("refused")
                p.row.match = Match.INVALID

    def _marriage_change(self, p: Someone, resident: Resident, known) -> dict:
        if (p.data["no_akta"], p.data["kua"]) in known:
            return {}
        married_on = dt.date.fromisoformat(p.data["tanggal_nikah"])
        return marriage_change(resident, married_on)

    def _voter_change(self, p: Someone, resident: Resident, known) -> dict:
        changes = {}
        if resident.recorded_on is None:
            changes["sasaran_jemput_bola"] = True
        if is_first_time_voter(resident, self.election.polling_day):
            changes["pemilih_pemula"] = True
        return changes

    def _ikd_change(self, p: Someone, resident: Resident, known) -> dict:
        if resident.pk in known or resident.ikd_activated_at is not None:
            return {}
        if resident.ktp_status not in RECORDED_STATUSES or resident.recorded_on is None:
            return {"refused": "Belum rekam KTP-el: aktivasi IKD ditolak."}
        day = dt.date.fromisoformat(p.data["tanggal_aktivasi"])
        if day < resident.recorded_on:
            return {"refused": "Tanggal aktivasi sebelum tanggal perekaman."}
        return {"aktivasi_ikd": p.data["tanggal_aktivasi"]}


def _subject(p: Someone) -> str:
    return f"baris-{p.line}-{p.role}"


def _someone(p: Someone) -> Person:
    return Person(
        id=_subject(p),
        name=p.name,
        mother_name="",
        birth_place=p.birth_place,
        birth_date=p.birth_date,
        sex=p.sex,
    )


def _person(r: Resident) -> Person:
    return Person(
        id=str(r.pk),
        name=r.name,
        mother_name=r.mother_name,
        birth_place=r.birth_place,
        birth_date=r.birth_date,
        sex=r.sex,
    )


def _no_match(p: Someone, why: str) -> None:
    p.row.problem = (p.row.problem.split(" Dicocokkan")[0] + " " + why).strip()


def marriage_change(resident: Resident, married_on: dt.date) -> dict:
    """What a marriage on a day changes for a resident: the marital status, and whether the
    resident thereby becomes wajib KTP without a recording (and is invited)."""
    if resident.marital_status == MaritalStatus.MARRIED:
        return {}
    changes = {"status_perkawinan": [resident.marital_status, MaritalStatus.MARRIED]}
    eligible = resident.citizenship == Citizenship.WNI or resident.has_itap
    under_17 = resident.birth_date > years_ago(married_on, 17)
    if eligible and under_17 and resident.marital_status == MaritalStatus.SINGLE:
        changes["menjadi_wajib_ktp"] = married_on.isoformat()
        if resident.recorded_on is None:
            changes["diundang_rekam"] = True
    return changes


def is_first_time_voter(resident: Resident, polling_day: dt.date) -> bool:
    """Tell whether a resident votes for the first time on a polling day, as
    `coverage.selectors.first_time_voters` counts them (17 by polling day, not yet 17 on the
    polling day five years before; WNI)."""
    return (
        resident.citizenship == Citizenship.WNI
        and years_ago(years_ago(polling_day, 5), 17) < resident.birth_date
        and resident.birth_date <= years_ago(polling_day, 17)
    )

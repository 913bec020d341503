"""Build a synthetic district: residents, families and a recording history.

Nothing here is real personal data. Ages follow Indonesia's population pyramid, the sex
ratio is the district's own (Kemendagri), marital status depends on age and sex,
couples and their children share a Kartu Keluarga, names come from Faker's `id_ID`
lists. Every NIK and No. KK is valid and consistent with birth date, sex and kecamatan.
Each village gets a recording coverage between 80 % and 100 % of its wajib KTP.
The same seed gives the same data: every random draw comes from a generator seeded
with (seed, village code).
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import multiprocessing
import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import connection, connections, transaction
from faker.providers.person.id_ID import Provider as NameProvider

from ektp.core.bulk import deferred_indexes, insert_rows
from ektp.regions.models import Region
from ektp.residents.models import (
    Family,
    FamilyRelation,
    KtpStatus,
    MaritalStatus,
    Resident,
    years_ago,
)
from ektp.residents.nik import make_kk, make_nik

# Share of the population by five-year age group, 0–4 … 75–79, 80+ (BPS, SP2020, rounded).
AGE_PYRAMID = [
    8.4,
    8.7,
    8.6,
    8.3,
    8.0,
    7.7,
    7.6,
    7.5,
    7.1,
    6.5,
    5.8,
    4.9,
    3.9,
    2.9,
    1.9,
    1.2,
    0.9,
]
# Probability of being married at an age, by sex (SUSENAS-like shape).
MARRIED_MALE = [
    (19, 0.0),
    (20, 0.08),
    (25, 0.38),
    (30, 0.75),
    (35, 0.88),
    (60, 0.90),
    (70, 0.82),
    (120, 0.70),
]
MARRIED_FEMALE = [
    (16, 0.0),
    (17, 0.06),
    (20, 0.30),
    (25, 0.68),
    (30, 0.86),
    (45, 0.85),
    (55, 0.75),
    (65, 0.55),
    (120, 0.30),
]
RELIGIONS = [
    ("islam", 95.5),
    ("kristen", 2.2),
    ("katolik", 1.1),
    ("hindu", 0.8),
    ("buddha", 0.35),
    ("konghucu", 0.05),
]
OCCUPATIONS = [
    ("PETANI/PEKEBUN", 30),
    ("MENGURUS RUMAH TANGGA", 20),
    ("WIRASWASTA", 14),
    ("BURUH HARIAN LEPAS", 9),
    ("KARYAWAN SWASTA", 9),
    ("BELUM/TIDAK BEKERJA", 6),
    ("PEDAGANG", 4),
    ("NELAYAN/PERIKANAN", 2),
    ("PEGAWAI NEGERI SIPIL (PNS)", 2.5),
    ("GURU", 1.5),
    ("SOPIR", 1.2),
    ("PERANGKAT DESA", 0.5),
    ("BIDAN", 0.3),
]
# Current status of a recorded card; the rest of the recorded are CARD_ISSUED.
RECORDED_STATUS = [
    (KtpStatus.CARD_ISSUED, 88.0),
    (KtpStatus.PRINT_READY_RECORD, 5.0),
    (KtpStatus.CARD_PRINTED, 3.0),
    (KtpStatus.SENT_FOR_ENROLLMENT, 2.0),
    (KtpStatus.BIO_CAPTURED, 1.0),
    (KtpStatus.DUPLICATE_RECORD, 0.5),
    (KtpStatus.ENROLL_FAILURE, 0.5),
]
RECORDING_STARTED = dt.date(2011, 8, 1)
OTHER_BIRTH_PLACES = [
    "BANDAR LAMPUNG",
    "METRO",
    "PRINGSEWU",
    "TANGGAMUS",
    "LAMPUNG SELATAN",
    "LAMPUNG TENGAH",
    "PALEMBANG",
    "JAKARTA",
    "BANDUNG",
    "SEMARANG",
    "SURABAYA",
]


def recording_date(*, birth_date: dt.date, age: int, today: dt.date, draw: float) -> dt.date:
    """Return a recording day between the first day one may record and `today`, never after it.

    `draw` in [0, 1) places the day, skewed towards recent years. The seed counts age as
    days // 365, a few days ahead of the calendar: a 16-year-old by that count may turn 16
    after `today`, and is recorded today at the latest."""
    start = max(RECORDING_STARTED, years_ago(birth_date, -16) if age >= 16 else birth_date)
    start = min(start, today)
    span = (today - start).days
    return start + dt.timedelta(days=min(int(draw**0.7 * span), span))


def _cumulative(table: list[tuple[str, float]]) -> tuple[tuple[str, ...], list[float]]:
    """Split a weighted table into its values and cumulative weights (for random.choices)."""
    values, weights = zip(*table, strict=True)
    return values, list(itertools.accumulate(weights))


def _interp(table: list[tuple[int, float]], age: int) -> float:
    ages = [a for a, _ in table]
    i = bisect.bisect_left(ages, age)
    if i == 0:
        return table[0][1]
    if i >= len(table):
        return table[-1][1]
    (a0, p0), (a1, p1) = table[i - 1], table[i]
    return p0 + (p1 - p0) * (age - a0) / (a1 - a0)


@dataclass
class Person:
    sex: str
    birth_date: dt.date
    marital: str
    name: str = ""
    family: int = -1
    relation: str = FamilyRelation.HEAD
    mother_name: str = ""


@dataclass
class SeedResult:
    residents: int
    families: int
    villages: int


class Seeder:
    """Generate one district village by village and write it in bulk."""

    def __init__(self, *, region: Region, seed: int, residents: int | None, today: dt.date):
        self.region = region
        self.seed = seed
        self.today = today
        self.total = residents if residents is not None else (region.population or 0)
        male, female = region.population_male or 1, region.population_female or 1
        self.male_share = male / (male + female)
        self.villages = (
            list(
                Region.objects.filter(level=Region.Level.DESA, valid_to__isnull=True)
                .filter(code__startswith=region.code + ".")
                .order_by("code")
            )
            if region.level < Region.Level.DESA
            else [region]
        )
        self.kecamatan_names = {
            r.code: r.name.upper()
            for r in Region.objects.filter(
                level=Region.Level.KECAMATAN, code__startswith=region.code[:5]
            )
        }
        self.nik_serials: dict[str, int] = defaultdict(int)
        self.kk_serials: dict[str, int] = defaultdict(int)
        self.ages = [(i * 5, w) for i, w in enumerate(AGE_PYRAMID)]

    def village_sizes(self) -> list[int]:
        rng = random.Random(f"{self.seed}:sizes:{self.region.code}")
        weights = [rng.lognormvariate(0, 0.45) for _ in self.villages]
        scale = self.total / sum(weights) if weights else 0
        sizes = [int(w * scale) for w in weights]
        for i in range(self.total - sum(sizes)):
            sizes[i % len(sizes)] += 1
        return sizes

    # People -------------------------------------------------------------------------
    def _birth_date(self, rng: random.Random) -> dt.date:
        group = rng.choices(range(len(AGE_PYRAMID)), weights=AGE_PYRAMID)[0]
        span = 5 if group < len(AGE_PYRAMID) - 1 else 15
        age_days = int((group * 5 + rng.random() * span) * 365.25)
        return self.today - dt.timedelta(days=age_days)

    def _people(self, rng: random.Random, n: int) -> list[Person]:
        people = []
        for _ in range(n):
            sex = "L" if rng.random() < self.male_share else "P"
            born = self._birth_date(rng)
            age = (self.today - born).days // 365
            married_p = _interp(MARRIED_MALE if sex == "L" else MARRIED_FEMALE, age)
            r = rng.random()
            if r < married_p:
                marital = MaritalStatus.MARRIED
            elif age >= 25 and r < married_p + (
                0.02 + age / 400 if sex == "P" else 0.01 + age / 1200
            ):
                marital = MaritalStatus.WIDOWED if age >= 45 else MaritalStatus.DIVORCED
            else:
                marital = MaritalStatus.SINGLE
            people.append(Person(sex=sex, birth_date=born, marital=marital))
        return people

    def _name(self, rng: random.Random, sex: str) -> str:
        first = rng.choice(
            NameProvider.first_names_male if sex == "L" else NameProvider.first_names_female
        )
        if rng.random() < 0.55:
            return f"{first} {rng.choice(NameProvider.last_names)}".upper()
        return first.upper()

    def _households(self, rng: random.Random, people: list[Person]) -> list[list[int]]:
        """Pair married men and women, hang children under couples, others head their own KK."""
        men = sorted(
            (i for i, p in enumerate(people) if p.sex == "L" and p.marital == "kawin"),
            key=lambda i: people[i].birth_date,
        )
        women = sorted(
            (i for i, p in enumerate(people) if p.sex == "P" and p.marital == "kawin"),
            key=lambda i: people[i].birth_date,
        )
        families: list[list[int]] = []
        pairs = min(len(men), len(women))
        for k in range(pairs):
            families.append([men[k], women[k]])
        unpaired = set(men[pairs:] + women[pairs:])
        for i in sorted(unpaired):
            people[i].marital = MaritalStatus.WIDOWED  # spouse not in the district's register
            families.append([i])
        for i, p in enumerate(people):
            if p.marital in (MaritalStatus.DIVORCED, MaritalStatus.WIDOWED) and i not in unpaired:
                families.append([i])
        singles = [i for i, p in enumerate(people) if p.marital == MaritalStatus.SINGLE]
        # Mothers' birth dates, sorted, to find a plausible family for each child.
        by_mother = sorted((people[f[-1]].birth_date, n) for n, f in enumerate(families))
        mother_dates = [d for d, _ in by_mother]
        for i in singles:
            child = people[i]
            age = (self.today - child.birth_date).days // 365
            if age >= 25 and rng.random() < 0.5:
                families.append([i])
                continue
            lo = bisect.bisect_left(mother_dates, years_ago(child.birth_date, 42))
            hi = bisect.bisect_right(mother_dates, years_ago(child.birth_date, 17))
            if hi > lo:
                families[by_mother[rng.randrange(lo, hi)][1]].append(i)
            else:
                families.append([i])
        return families

    # Writing ------------------------------------------------------------------------
    def _uuid(self, rng: random.Random) -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    def _nik(self, kecamatan: str, person: Person) -> str:
        probe = make_nik(
            kecamatan_code=kecamatan, birth_date=person.birth_date, sex=person.sex, serial=1
        )
        self.nik_serials[probe[:12]] += 1
        return probe[:12] + f"{self.nik_serials[probe[:12]]:04d}"

    def _kk(self, rng: random.Random, kecamatan: str) -> tuple[str, dt.date]:
        issued = dt.date(2005, 1, 1) + dt.timedelta(
            days=rng.randrange((self.today - dt.date(2005, 1, 1)).days)
        )
        probe = make_kk(kecamatan_code=kecamatan, issued_on=issued, serial=1)
        self.kk_serials[probe[:12]] += 1
        return probe[:12] + f"{self.kk_serials[probe[:12]]:04d}", issued

    def build_village(self, village: Region, n: int) -> tuple[list[dict], list[dict]]:
        """Return the rows (column name → value) of a village's families and residents."""
        rng = random.Random(f"{self.seed}:{village.code}")
        random_ = rng.random
        kecamatan = village.code[:8]
        codes = {
            "address_region_id": village.code,
            "kecamatan_code": kecamatan,
            "kabkota_code": village.code[:5],
            "province_code": village.code[:2],
        }
        coverage = rng.uniform(0.80, 1.0)
        people = self._people(rng, n)
        households = self._households(rng, people)
        local_place = self.kecamatan_names.get(kecamatan, village.name.upper())
        families, residents = [], []
        religions, rel_cum = _cumulative(RELIGIONS)
        jobs, job_cum = _cumulative(OCCUPATIONS)
        statuses, status_cum = _cumulative(RECORDED_STATUS)
        recent = self.today - dt.timedelta(days=30)
        for members in households:
            religion = rng.choices(religions, cum_weights=rel_cum)[0]
            kk_number, issued = self._kk(rng, kecamatan)
            rt, rw = f"{rng.randint(1, 12):03d}", f"{rng.randint(1, 6):03d}"
            street = f"DUSUN {rng.choice(['I', 'II', 'III', 'IV', 'V'])}"
            family_id = self._uuid(rng)
            families.append(
                {
                    "id": family_id,
                    "kk_number": kk_number,
                    "issued_on": issued,
                    "rt": rt,
                    "rw": rw,
                    "street": street,
                    **codes,
                }
            )
            head = people[members[0]]
            mother = next(
                (
                    people[i]
                    for i in members[:2]
                    if people[i].sex == "P" and people[i].marital == "kawin"
                ),
                None,
            )
            for pos, i in enumerate(members):
                p = people[i]
                p.name = self._name(rng, p.sex)
                if pos == 0:
                    relation = FamilyRelation.HEAD
                elif pos == 1 and p.marital == "kawin" and head.marital == "kawin":
                    relation = FamilyRelation.WIFE if p.sex == "P" else FamilyRelation.HUSBAND
                else:
                    relation = FamilyRelation.CHILD
                if relation == FamilyRelation.CHILD and mother is not None:
                    mother_name = mother.name
                else:
                    mother_name = self._name(rng, "P")
                age = (self.today - p.birth_date).days // 365
                if age < 5:
                    job = "BELUM/TIDAK BEKERJA"
                elif age < 22 and p.marital == "belum_kawin":
                    job = "PELAJAR/MAHASISWA"
                elif age >= 65:
                    job = rng.choice(["BELUM/TIDAK BEKERJA", "PETANI/PEKEBUN", "PENSIUNAN"])
                else:
                    job = rng.choices(jobs, cum_weights=job_cum)[0]
                wajib = age >= 17 or p.marital != "belum_kawin"
                recorded_on, status = None, KtpStatus.BELUM_REKAM
                if (wajib and random_() < coverage) or (age == 16 and random_() < 0.15):
                    recorded_on = recording_date(
                        birth_date=p.birth_date, age=age, today=self.today, draw=random_()
                    )
                    status = rng.choices(statuses, cum_weights=status_cum)[0]
                    if recorded_on > recent and status == KtpStatus.CARD_ISSUED:
                        status = KtpStatus.PRINT_READY_RECORD
                    elif recorded_on <= recent and status == KtpStatus.BIO_CAPTURED:
                        # A recording is sent within days: one left unsent is recent, and
                        # gets its (simulated) biometrics from ektp.enrollment.demo.
                        status = KtpStatus.CARD_ISSUED
                phone = (
                    f"08{rng.randint(11, 99)}{rng.randint(10_000_000, 99_999_999)}"
                    if age >= 17 and random_() < 0.6
                    else ""
                )
                residents.append(
                    {
                        "id": self._uuid(rng),
                        "nik": self._nik(kecamatan, p),
                        "family_id": family_id,
                        "family_relation": relation,
                        "name": p.name,
                        "birth_place": local_place
                        if random_() < 0.8
                        else rng.choice(OTHER_BIRTH_PLACES),
                        "birth_date": p.birth_date,
                        "sex": p.sex,
                        "marital_status": p.marital,
                        "religion": religion,
                        "occupation": job,
                        "mother_name": mother_name,
                        "rt": rt,
                        "rw": rw,
                        "street": street,
                        "phone": phone,
                        "email": f"{p.name.split()[0].lower()}{rng.randint(1, 999)}@contoh.id"
                        if phone and random_() < 0.25
                        else "",
                        "ktp_status": status,
                        "recorded_on": recorded_on,
                        "origin_node": "seed",
                        **codes,
                    }
                )
        return families, residents

    def run(
        self, progress: Callable[[int], None] | None = None, *, analyze: bool = True
    ) -> SeedResult:
        n_res = n_fam = 0
        for village, size in zip(self.villages, self.village_sizes(), strict=True):
            families, residents = self.build_village(village, size)
            with transaction.atomic():
                insert_rows(Family, families)
                insert_rows(Resident, residents)
            n_res += len(residents)
            n_fam += len(families)
            if progress:
                progress(len(residents))
        if analyze:
            refresh_statistics()
        return SeedResult(residents=n_res, families=n_fam, villages=len(self.villages))


def refresh_statistics() -> None:
    """Fresh statistics, so the planner knows half a million residents from a few messages."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE residents_resident; ANALYZE residents_family;")
        else:
            cursor.execute("ANALYZE")


def district_sizes(province: Region, residents: int | None) -> list[tuple[Region, int]]:
    """Return the districts of a province with their number of residents: the Kemendagri
    population of each, or `residents` shared out in proportion to it; largest first."""
    districts = list(
        Region.objects.filter(
            level=Region.Level.KABKOTA, valid_to__isnull=True, code__startswith=province.code + "."
        ).order_by("code")
    )
    real = [d.population or 0 for d in districts]
    if residents is None:
        sizes = real
    else:
        whole = sum(real) or 1
        sizes = [residents * r // whole for r in real]
        for i in range(residents - sum(sizes)):
            sizes[i % len(sizes)] += 1
    return sorted(zip(districts, sizes, strict=True), key=lambda pair: -pair[1])


def _seed_district(task: tuple[str, int, int, dt.date]) -> tuple[str, SeedResult]:
    code, seed, residents, today = task
    seeder = Seeder(
        region=Region.objects.get(code=code), seed=seed, residents=residents, today=today
    )
    result = seeder.run(analyze=False)
    connection.close()
    return code, result


def seed_province(
    province: Region,
    *,
    seed: int,
    residents: int | None,
    today: dt.date,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> SeedResult:
    """Seed every district of a province, each exactly as `Seeder` seeds it alone (NIK and
    No. KK serials are per kecamatan, so districts are independent); on PostgreSQL `jobs`
    processes generate and write districts side by side, and the plain indexes of the
    residents and families are built once at the end instead of row by row."""
    tasks = [(d.code, seed, n, today) for d, n in district_sizes(province, residents)]
    with deferred_indexes(Family, Resident):
        results = _seed_districts(tasks, jobs=jobs, progress=progress)
    refresh_statistics()
    return SeedResult(
        residents=sum(r.residents for r in results),
        families=sum(r.families for r in results),
        villages=sum(r.villages for r in results),
    )


def _seed_districts(
    tasks: list[tuple[str, int, int, dt.date]],
    *,
    jobs: int,
    progress: Callable[[int], None] | None,
) -> list[SeedResult]:
    results: list[SeedResult] = []
    if jobs > 1 and connection.vendor == "postgresql":
        connections.close_all()
        context = multiprocessing.get_context("fork")
        with context.Pool(jobs, maxtasksperchild=1) as pool:
            for _, result in pool.imap_unordered(_seed_district, tasks):
                results.append(result)
                if progress:
                    progress(result.residents)
    else:
        for code, seed, n, today in tasks:
            seeder = Seeder(
                region=Region.objects.get(code=code), seed=seed, residents=n, today=today
            )
            results.append(seeder.run(progress, analyze=False))
    return results


def iter_villages(region: Region) -> Iterator[Region]:
    yield from Region.objects.filter(level=Region.Level.DESA, code__startswith=region.code + ".")

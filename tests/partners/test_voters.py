"""KPU voter lists for an election: outreach targets, first-time voters per village (one
figure for page, export and API), voters to resolve."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from ektp.core.models import Role
from ektp.core.services import issue_api_token
from ektp.partners import selectors, services, staging
from ektp.partners.models import Match, Voter
from ektp.residents.models import years_ago
from tests.partners.factories import OTHER_DISTRICT_VILLAGE, csv_file, voter_row, xlsx_file
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db
POLLING = dt.date(2027, 11, 24)
A, B = "18.09.01.2001", "18.09.01.2002"


@pytest.fixture
def head(make_staff):
    return make_staff(Role.SUPERVISOR)


@pytest.fixture
def election(head):
    return services.create_election(
        actor=head, kabkota_code="18.09", name="Pilkada Pesawaran", polling_day=POLLING
    )


def _stage(head, election, rows, *, xlsx=False):
    content = xlsx_file("kpu", rows) if xlsx else csv_file("kpu", rows)
    return services.stage_import(
        actor=head,
        kind="kpu",
        kabkota_code="18.09",
        file_name="dpt.xlsx" if xlsx else "dpt.csv",
        content=content,
        election=election,
    )


def test_first_time_voters_counted_per_village_on_the_polling_day(head, election, client):
    turns_17_on_polling_day = years_ago(POLLING, 17)
    turns_17_a_day_late = turns_17_on_polling_day + dt.timedelta(days=1)
    first_a = [ResidentFactory(address_region_id=A, birth_date=turns_17_on_polling_day)]
    first_a.append(
        ResidentFactory(
            address_region_id=A,
            birth_date=turns_17_on_polling_day - dt.timedelta(days=200),
            recorded_on=dt.date(2026, 1, 5),
            ktp_status="BIO_CAPTURED",
        )
    )
    too_young = ResidentFactory(address_region_id=A, birth_date=turns_17_a_day_late)
    old_voter = ResidentFactory(address_region_id=B, birth_date=dt.date(1980, 1, 1))
    first_b = ResidentFactory(address_region_id=B, birth_date=turns_17_on_polling_day)
    ResidentFactory(address_region_id=B, birth_date=turns_17_on_polling_day)  # not on the list
    rows = [voter_row(r) for r in (*first_a, too_young, old_voter, first_b)]
    staged = _stage(head, election, rows, xlsx=True)
    assert selectors.preview(staged).counts[Match.NIK] == 5
    services.apply_import(actor=head, partner_import=staged)

    figures = {v.code: v for v in selectors.voters_by_village(election)}
    assert (figures[A].listed, figures[A].first_time, figures[A].first_time_not_recorded) == (
        3,
        2,
        1,
    )
    assert (figures[B].listed, figures[B].first_time) == (2, 1)

    # the same figures on the page, in the export and from the API
    client.force_login(head)
    page = client.get(reverse("partners:election", args=[election.pk]))
    assert page.status_code == 200
    assert page.context["villages"] == list(figures.values())
    export = client.get(reverse("partners:election_export", args=[election.pk, "csv"]))
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[1].split(";")[:5] == [A, figures[A].name, "3", "2", "1"]
    token = issue_api_token(user=head, name="uji")
    api = client.get(
        f"/api/v1/partners/elections/{election.pk}/villages",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert api.status_code == 200
    assert api.json() == [v.as_dict() for v in figures.values()]


def test_on_list_residents_not_recorded_are_outreach_targets(head, election):
    recorded = ResidentFactory(recorded_on=dt.date(2020, 1, 1), ktp_status="CARD_ISSUED")
    unrecorded = ResidentFactory()
    ResidentFactory()  # not on the list
    staged = _stage(head, election, [voter_row(recorded), voter_row(unrecorded)])
    assert staged.rows.get(data__nik=unrecorded.nik).changes == {"sasaran_jemput_bola": True}
    services.apply_import(actor=head, partner_import=staged)
    assert list(selectors.outreach_targets(election)) == [unrecorded]


def test_voters_unknown_or_known_elsewhere_are_listed_to_resolve(head, election):
    here = ResidentFactory()
    elsewhere = ResidentFactory(address_region_id=OTHER_DISTRICT_VILLAGE)
    unknown = voter_row(
        nik="1809015501990007",
        nama="TIDAK DIKENAL",
        tanggal_lahir="1999-01-15",
        jenis_kelamin="P",
        kode_desa=A,
    )
    row_elsewhere = voter_row(elsewhere, kode_desa=A)
    staged = _stage(head, election, [voter_row(here), row_elsewhere, unknown])
    counts = selectors.preview(staged).counts
    assert (counts[Match.NIK], counts[Match.ELSEWHERE], counts[Match.NONE]) == (1, 1, 1)
    services.apply_import(actor=head, partner_import=staged)

    to_resolve = list(selectors.voters_to_resolve(election))
    assert {(v.nik, v.standing) for v in to_resolve} == {
        (elsewhere.nik, Voter.Standing.ELSEWHERE),
        ("1809015501990007", Voter.Standing.UNKNOWN),
    }
    services.resolve_voter(actor=head, voter=to_resolve[0], note="Pindah datang, diproses.")
    assert len(selectors.voters_to_resolve(election)) == 1
    with pytest.raises(services.PartnerError):
        services.resolve_voter(actor=head, voter=to_resolve[1], note="  ")


def test_voter_list_reimported_changes_nothing(head, election):
    rows = [voter_row(ResidentFactory()) for _ in range(3)]
    services.apply_import(actor=head, partner_import=_stage(head, election, rows))
    with pytest.raises(services.AlreadyApplied):
        services.apply_import(actor=head, partner_import=_stage(head, election, rows))
    assert Voter.objects.count() == 3


BAD_LINES = [
    ({"nik": ""}, "NIK kosong"),
    ({"nik": "1809ABCD01900001"}, "hanya boleh berisi angka"),
    ({"nama": ""}, "nama kosong"),
    ({"tanggal_lahir": "2001-13-01"}, "bukan tanggal"),
    ({"tanggal_lahir": "2999-01-01"}, "di masa depan"),
    ({"jenis_kelamin": "X"}, "L atau P"),
    ({"kode_desa": OTHER_DISTRICT_VILLAGE}, "di luar wilayah kerja"),
]


def test_bad_voter_lines_listed(head, election):
    """One file, one line breaking each rule (lines 2, 3, …)."""
    rows = [voter_row(ResidentFactory(), **change) for change, _message in BAD_LINES]
    staged = _stage(head, election, rows)
    for line, (_change, message) in enumerate(BAD_LINES, start=2):
        row = staged.rows.get(line=line)
        assert row.match == Match.INVALID and message in row.problem, (line, row.problem)


def test_duplicate_voter_line_listed(head, election):
    row = voter_row(ResidentFactory())
    staged = _stage(head, election, [row, row])
    assert staged.rows.get(line=3).problem == "Baris duplikat: sama dengan baris 2."


def test_voter_list_needs_an_election_of_the_district(head, make_staff):
    with pytest.raises(services.PartnerError, match="pemilihan"):
        services.stage_import(
            actor=head,
            kind="kpu",
            kabkota_code="18.09",
            file_name="x.csv",
            content=csv_file("kpu", []),
        )
    other = make_staff(Role.SUPERVISOR, region="18.10", username="kadis-pringsewu")
    theirs = services.create_election(
        actor=other, kabkota_code="18.10", name="Pilkada Pringsewu", polling_day=POLLING
    )
    with pytest.raises(services.PartnerError, match="bukan milik"):
        _stage(head, theirs, [])


def test_many_mistyped_niks_matched_in_one_demographic_scan(head, election):
    """More than a few lines without a known NIK are scored in one scan (find_pairs), with the
    same model as a single check: each finds its own resident, and a stranger finds none."""
    people = [
        ResidentFactory(
            name=f"WARGA NOMOR {chr(65 + i)}{chr(75 + i)}",
            birth_date=dt.date(1990, 1, 1) + dt.timedelta(days=i),
            mother_name=f"IBU {i}",
        )
        for i in range(staging.FEW + 2)
    ]
    rows = [voter_row(p, nik=p.nik[:12] + "9999") for p in people]
    rows.append(
        voter_row(
            nik="1809010101909998",
            nama="ORANG ASING SEKALI",
            tanggal_lahir="1990-01-01",
            jenis_kelamin="L",
            kode_desa=A,
        )
    )
    staged = _stage(head, election, rows)
    matched = {r.data["nama"]: r for r in staged.rows.filter(match=Match.DEDUP)}
    assert len(matched) == len(people)
    for p in people:
        assert matched[p.name].resident_id == p.pk and matched[p.name].score >= 0.99
    assert staged.rows.get(data__nama="ORANG ASING SEKALI").match == Match.NONE

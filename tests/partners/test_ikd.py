"""IKD activation: only for a recorded KTP-el; targets per kecamatan against a stated
denominator; card holders told how to activate."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from ektp.core.models import Role
from ektp.coverage.stats import coverage_of
from ektp.partners import selectors, services
from ektp.partners.models import IkdActivation, IkdDenominator, IkdTarget, Match
from tests.partners.factories import csv_file
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
KEC = "18.09.01"


@pytest.fixture
def head(make_staff):
    return make_staff(Role.SUPERVISOR)


def _holder(**kwargs):
    return ResidentFactory(recorded_on=dt.date(2020, 2, 2), ktp_status="CARD_ISSUED", **kwargs)


def test_activation_at_the_counter_recorded_for_a_card_holder(operator):
    holder = _holder()
    services.record_ikd_activation(
        actor=operator, nik=holder.nik, channel="loket", place="Loket 2", activated_on=TODAY
    )
    holder.refresh_from_db()
    assert holder.ikd_activated_at is not None
    assert coverage_of(code="18.09", as_of=TODAY).ikd == 1


def test_activation_refused_without_a_recorded_ktp_el(operator):
    unrecorded = ResidentFactory()
    with pytest.raises(services.PartnerError, match="belum rekam KTP-el") as refused:
        services.record_ikd_activation(
            actor=operator,
            nik=unrecorded.nik,
            channel="jemput_bola",
            place="Desa",
            activated_on=TODAY,
        )
    assert refused.value.rule == "not_recorded"
    assert not IkdActivation.objects.exists()


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"channel": "pos"}, "channel"),
        ({"place": "  "}, "place"),
        ({"activated_on": TODAY + dt.timedelta(days=1)}, "date"),
        ({"activated_on": dt.date(2019, 1, 1)}, "date"),
        ({"nik": "1809010101900099"}, "nik"),
    ],
)
def test_bad_activation_refused(operator, change, rule):
    holder = _holder()
    args = {"nik": holder.nik, "channel": "loket", "place": "Loket 1", "activated_on": TODAY}
    with pytest.raises(services.PartnerError) as refused:
        services.record_ikd_activation(actor=operator, **{**args, **change})
    assert refused.value.rule == rule


def test_second_activation_refused(operator):
    holder = _holder()
    args = {"nik": holder.nik, "channel": "loket", "place": "Loket 1", "activated_on": TODAY}
    services.record_ikd_activation(actor=operator, **args)
    with pytest.raises(services.PartnerError, match="sudah aktif"):
        services.record_ikd_activation(actor=operator, **args)


def test_activation_file_imported_and_refused_for_the_unrecorded(head):
    holder, unrecorded = _holder(), ResidentFactory()
    rows = [
        {
            "nik": holder.nik,
            "tanggal_aktivasi": TODAY.isoformat(),
            "cara": "jemput_bola",
            "tempat": "Balai desa",
        },
        {
            "nik": unrecorded.nik,
            "tanggal_aktivasi": TODAY.isoformat(),
            "cara": "loket",
            "tempat": "Kantor",
        },
    ]
    staged = services.stage_import(
        actor=head,
        kind="ikd",
        kabkota_code="18.09",
        file_name="ikd.csv",
        content=csv_file("ikd", rows),
    )
    refused = staged.rows.get(line=3)
    assert refused.match == Match.INVALID and "aktivasi IKD ditolak" in refused.problem
    services.apply_import(actor=head, partner_import=staged)
    assert IkdActivation.objects.get().resident == holder


@pytest.mark.parametrize(
    ("denominator", "population", "rate"),
    [
        (IkdDenominator.HOLDERS, 4, Decimal("25.00")),
        (IkdDenominator.WAJIB_KTP, 10, Decimal("10.00")),
    ],
)
def test_ikd_target_counted_against_the_denominator_it_states(head, denominator, population, rate):
    holders = [_holder(address_region_id="18.09.01.2001") for _ in range(4)]
    for _ in range(6):
        ResidentFactory(address_region_id="18.09.01.2002")  # wajib KTP, not recorded
    _holder(address_region_id="18.09.02.2001")  # another kecamatan
    services.record_ikd_activation(
        actor=head, nik=holders[0].nik, channel="loket", place="Loket", activated_on=TODAY
    )
    target = services.set_ikd_target(
        actor=head, kecamatan_code=KEC, rate="25", denominator=denominator, due_date=TODAY
    )
    progress = selectors.ikd_progress(target)
    assert (progress.population, progress.activated, progress.rate) == (population, 1, rate)
    assert progress.met is (denominator == IkdDenominator.HOLDERS)
    assert progress.denominator_label == IkdDenominator(denominator).label


BAD_TARGETS = [
    ({"kecamatan_code": "18.09"}, "region"),
    ({"kecamatan_code": "18.10.01"}, "jurisdiction"),
    ({"rate": "0"}, "rate"),
    ({"rate": "100.5"}, "rate"),
    ({"rate": "tiga puluh"}, "rate"),
    ({"rate": "NaN"}, "rate"),
    ({"denominator": "penduduk"}, "denominator"),
]


def test_bad_ikd_target_refused(head):
    args = {"kecamatan_code": KEC, "rate": "30", "denominator": "pemegang", "due_date": TODAY}
    for change, rule in BAD_TARGETS:
        with pytest.raises(services.PartnerError) as refused:
            services.set_ikd_target(actor=head, **{**args, **change})
        assert refused.value.rule == rule, change
    assert not IkdTarget.objects.exists()


def test_operator_may_not_set_ikd_targets(operator):
    with pytest.raises(services.PartnerError, match="Peran"):
        services.set_ikd_target(
            actor=operator, kecamatan_code=KEC, rate="30", denominator="pemegang", due_date=TODAY
        )

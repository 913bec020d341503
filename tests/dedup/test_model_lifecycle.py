"""A model with a life: trained per scope, stored, chosen by scans and checks, fed by adjudication."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from ektp.core.models import AuditEvent, Role
from ektp.dedup import demographic, selectors, services
from ektp.dedup.errors import DedupError
from ektp.dedup.models import CaseSource, CaseStatus, DemographicModel, DuplicateCase
from tests.dedup.factories import distinct_person
from tests.residents.factories import ResidentFactory

pytestmark = pytest.mark.django_db
MOVED = "18.71.01.1003"


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR)


def _district(count: int = 80, village: str = "18.09.01.2001"):
    return [
        ResidentFactory(**distinct_person(i), address_region_id=village, street=f"DUSUN {i % 7}")
        for i in range(count)
    ]


def _stored(scope: str, threshold: float, *, days_ago: int = 0) -> DemographicModel:
    """Store a model for a scope without training it (the fallback's parameters)."""
    return DemographicModel.objects.create(
        scope=scope,
        trained_at=timezone.now() - dt.timedelta(days=days_ago),
        records=100,
        seconds=1.0,
        settings=demographic.default_model().settings,
        threshold=threshold,
        target_precision=0.95,
    )


def test_train_command_stores_the_model_with_its_date_size_and_parameters(capsys):
    _district()
    call_command("dedup", "train", "--region", "18.09")
    model = DemographicModel.objects.get()
    assert "Model 18.09 dilatih pada 80 penduduk" in capsys.readouterr().out
    assert model.scope == "18.09"
    assert model.records == 80
    assert timezone.now() - model.trained_at < dt.timedelta(minutes=5)
    assert {c["output_column_name"] for c in model.settings["comparisons"]} >= {
        "name",
        "birth_date",
        "desa",
        "phone",
    }
    assert 0 < model.settings["probability_two_random_records_match"] < 1
    assert model.steps["u"].startswith("random sampling")
    assert "SITI AMINAH" not in model.term_frequencies["name"]
    assert model.threshold == demographic.MATCH_PROBABILITY  # no labels yet
    assert model.labels == 0 and model.measured_precision is None
    assert AuditEvent.objects.filter(object_type="demographic_model").count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", "18.09.01"], "per provinsi atau kabupaten/kota"),
        (["--region", "99.99"], "tidak dikenal"),
        (["--region", "18/09"], "tidak sah"),
        (["--region", "18.71"], "kurang dari 2 penduduk"),
        (["--region", "18.09", "--target-precision", "0"], "target presisi"),
        (["--region", "18.09", "--target-precision", "1.5"], "target presisi"),
        (["--region", "18.09", "--target-precision", "tinggi"], "target presisi"),
    ],
)
def test_train_refuses_bad_input_and_stores_nothing(args, message):
    ResidentFactory(**distinct_person(1))
    ResidentFactory(**distinct_person(2))
    with pytest.raises(CommandError, match=message):
        call_command("dedup", "train", *args)
    assert not DemographicModel.objects.exists()


def test_train_service_refuses_a_target_precision_out_of_range():
    with pytest.raises(DedupError, match="Target presisi"):
        services.train_model(scope="18.09", target_precision=1.01)


def test_the_district_model_is_chosen_then_the_province_then_the_default():
    assert selectors.model_for("18.09") is demographic.default_model()
    province = _stored("18", 0.9)
    assert selectors.model_for("18.09").key == str(province.pk)
    assert selectors.model_for("18.09.01.2001").key == str(province.pk)
    district = _stored("18.09", 0.8)
    older = _stored("18.09", 0.7, days_ago=3)
    assert selectors.model_for("18.09").key == str(district.pk)
    assert selectors.model_for("18.71").key == str(province.pk)
    assert selectors.model_for("31.71").key == "default"
    assert selectors.model_for(None).key == "default"
    assert older.pk != district.pk


def test_scan_and_single_check_use_the_stored_model_of_the_scope():
    same_name = {**distinct_person(1), "mother_name": "RATNA DEWI"}
    first = ResidentFactory(**distinct_person(1))
    second = ResidentFactory(**same_name, address_region_id="18.09.01.2002", rt="007")
    ResidentFactory(**distinct_person(2))
    # The fallback at its own cut does not call them one person (another mother).
    assert services.scan_registry(region="18.09").created == 0
    assert services.demographic_matches(resident=second) == []

    _stored("18.09", 0.1)
    assert [m.right for m in services.demographic_matches(resident=second)] == [str(first.pk)]
    assert services.scan_registry(region="18.09").created == 1
    case = DuplicateCase.objects.get()
    assert {case.resident_id, case.candidate_id} == {first.pk, second.pk}
    # Another district has no model of its own and keeps the fallback.
    assert services.scan_registry(region="18.71").created == 0


def _label(resident, candidate, status, supervisor, probability=0.99):
    return DuplicateCase.objects.create(
        resident=resident,
        candidate=candidate,
        source=CaseSource.SCAN,
        demographic_probability=probability,
        status=status,
        decided_by=supervisor,
        decided_at=timezone.now(),
        reason="keputusan uji",
        kabkota_code=resident.kabkota_code,
        province_code=resident.province_code,
    )


def test_adjudicated_cases_pick_the_threshold_and_measure_precision_and_recall(supervisor):
    base = _district(60)
    same, different = [], []
    for original in base[:8]:  # the same person: a typo in the name
        copy = ResidentFactory(
            **{**distinct_person(base.index(original)), "name": original.name + "H"},
            street=original.street,
        )
        same.append(_label(copy, original, CaseStatus.CONFIRMED_DUPLICATE, supervisor))
    for original in base[10:14]:  # different people: twins with other names
        twin = ResidentFactory(
            **{**distinct_person(base.index(original)), "name": "ZAINAL ABIDIN"},
            street=original.street,
        )
        different.append(_label(twin, original, CaseStatus.NOT_DUPLICATE, supervisor))
    open_case = ResidentFactory(**{**distinct_person(40), "name": "YUSUF"})
    DuplicateCase.objects.create(
        resident=open_case,
        candidate=base[40],
        source=CaseSource.SCAN,
        demographic_probability=0.99,
        kabkota_code="18.09",
        province_code="18",
    )

    model = services.train_model(scope="18.09", target_precision=1.0, actor=supervisor)

    assert model.labels == 12 and model.positives == 8  # the open case is no label
    assert model.measured_precision == 1.0
    assert 0 < model.measured_recall <= 1.0
    assert demographic.MIN_THRESHOLD <= model.threshold < 1
    scores = demographic.score_pairs(
        selectors.model_for("18.09"),
        [(selectors.person(c.resident), selectors.person(c.candidate)) for c in same + different],
    )
    assert all(score < model.threshold for score in scores[8:])
    assert sum(score >= model.threshold for score in scores[:8]) == round(model.measured_recall * 8)


def test_labels_of_another_district_are_not_used(supervisor):
    _district(30)
    other = [ResidentFactory(**distinct_person(i), address_region_id=MOVED) for i in range(2)]
    _label(other[1], other[0], CaseStatus.NOT_DUPLICATE, supervisor)
    assert selectors.labelled_pairs(scope="18.09") == []
    assert len(selectors.labelled_pairs(scope="18")) == 1


def test_the_supervisor_sees_the_models_of_the_scope(client, supervisor):
    stored = _stored("18.09", 0.97)
    stored.labels, stored.positives, stored.measured_precision = 20, 15, 0.95
    stored.save()
    _stored("31.71", 0.5)
    client.force_login(supervisor)
    page = client.get(reverse("dedup:models"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Model wilayah 18.09" in text
    assert "0,9700" in text or "0.9700" in text
    assert "Model wilayah 31.71" not in text
    assert "netral (kosong)" in text
    assert "Model bawaan" in text


def test_an_operator_may_not_see_the_models(client, operator):
    client.force_login(operator)
    assert client.get(reverse("dedup:models")).status_code == 403

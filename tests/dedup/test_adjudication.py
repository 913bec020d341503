"""Adjudication: a supervisor decides same person (kept, marked) or different people (→ PRR)."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from ektp.core.models import AuditEvent, Role
from ektp.core.services import issue_api_token
from ektp.dedup import services
from ektp.dedup.engine import get_engine
from ektp.dedup.errors import CaseAlreadyDecided, DedupError, NotAllowed
from ektp.dedup.models import CaseStatus, DuplicateCase
from ektp.residents.models import KtpStatus, Resident
from tests.dedup.factories import genuine, person, sent, subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(make_staff):
    return make_staff(Role.SUPERVISOR)


@pytest.fixture
def case(operator):
    """A re-recording of an enrolled person's eyes under a second NIK, awaiting a decision."""
    first, second = person(), person()
    eyes = subject(100)
    services.run_penunggalan(enrollment_id=sent(operator, first, iris=eyes).pk)
    services.run_penunggalan(enrollment_id=sent(operator, second, iris=genuine(eyes)).pk)
    return DuplicateCase.objects.get()


def _status(resident: Resident) -> str:
    resident.refresh_from_db()
    return resident.ktp_status


def test_different_people_moves_the_record_to_print_ready(case, supervisor, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    services.decide_case(
        case=case, decision=CaseStatus.NOT_DUPLICATE, actor=supervisor, reason="Kembar identik"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.NOT_DUPLICATE
    assert case.decided_by == supervisor and case.decided_at is not None
    assert _status(case.resident) == KtpStatus.PRINT_READY_RECORD


def test_different_people_adds_the_record_to_the_gallery_after_commit(
    case, supervisor, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_case(
            case=case, decision=CaseStatus.NOT_DUPLICATE, actor=supervisor, reason="Kembar"
        )
    assert get_engine().count() == 2


def test_same_person_keeps_both_rows_and_marks_the_new_one(case, supervisor):
    services.decide_case(
        case=case,
        decision=CaseStatus.CONFIRMED_DUPLICATE,
        actor=supervisor,
        reason="Foto dan iris sama",
    )
    assert _status(case.resident) == KtpStatus.DUPLICATE_RECORD
    assert Resident.objects.filter(pk__in=[case.resident_id, case.candidate_id]).count() == 2
    assert get_engine().count() == 1


def test_every_decision_is_audited(case, supervisor):
    services.decide_case(
        case=case, decision=CaseStatus.CONFIRMED_DUPLICATE, actor=supervisor, reason="Sama"
    )
    event = AuditEvent.objects.get(object_type="duplicate_case", action=AuditEvent.Action.UPDATE)
    assert event.user == supervisor
    assert event.detail["decision"] == "confirmed_duplicate"
    assert event.detail["candidate_nik"] == case.candidate.nik


def test_a_case_is_decided_once(case, supervisor):
    services.decide_case(case=case, decision=CaseStatus.NOT_DUPLICATE, actor=supervisor, reason="A")
    with pytest.raises(CaseAlreadyDecided, match="sudah diputuskan"):
        services.decide_case(
            case=case, decision=CaseStatus.CONFIRMED_DUPLICATE, actor=supervisor, reason="B"
        )


def test_record_stays_duplicate_while_another_case_is_open(case, supervisor, operator):
    other = person()
    DuplicateCase.objects.create(
        resident=case.resident,
        candidate=other,
        source="scan",
        demographic_probability=0.995,
        kabkota_code="18.09",
        province_code="18",
    )
    services.decide_case(case=case, decision=CaseStatus.NOT_DUPLICATE, actor=supervisor, reason="A")
    assert _status(case.resident) == KtpStatus.DUPLICATE_RECORD


def test_operator_may_not_decide(case, operator):
    with pytest.raises(NotAllowed, match="supervisor"):
        services.decide_case(
            case=case, decision=CaseStatus.NOT_DUPLICATE, actor=operator, reason="A"
        )
    assert DuplicateCase.objects.get().status == CaseStatus.OPEN


def test_supervisor_of_another_district_may_not_decide(case, make_staff):
    stranger = make_staff(Role.SUPERVISOR, region="18.71", username="kadis-lain")
    with pytest.raises(NotAllowed, match="wilayah"):
        services.decide_case(
            case=case, decision=CaseStatus.NOT_DUPLICATE, actor=stranger, reason="A"
        )


@pytest.mark.parametrize(
    ("decision", "reason", "message"),
    [
        ("merge", "ok", "Keputusan harus"),
        (CaseStatus.OPEN, "ok", "Keputusan harus"),
        (CaseStatus.NOT_DUPLICATE, "   ", "wajib diisi"),
        (CaseStatus.NOT_DUPLICATE, "x" * 251, "paling banyak 250"),
    ],
)
def test_bad_decision_input_is_refused_and_nothing_changes(
    case, supervisor, decision, reason, message
):
    with pytest.raises(DedupError, match=message):
        services.decide_case(case=case, decision=decision, actor=supervisor, reason=reason)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert _status(case.resident) == KtpStatus.DUPLICATE_RECORD


# Pages


def test_queue_lists_open_cases_for_the_supervisor(client, case, supervisor):
    client.force_login(supervisor)
    page = client.get(reverse("dedup:queue"))
    assert page.status_code == 200
    assert case.resident.nik in page.content.decode()


def test_queue_refuses_an_operator(client, case, operator):
    client.force_login(operator)
    assert client.get(reverse("dedup:queue")).status_code == 403


def test_queue_with_unknown_status_says_so(client, case, supervisor):
    client.force_login(supervisor)
    page = client.get(reverse("dedup:queue"), {"status": "hilang"})
    assert page.status_code == 400
    assert "Status kasus tidak dikenal" in page.content.decode()


def test_case_page_shows_both_records_side_by_side(client, case, supervisor):
    client.force_login(supervisor)
    page = client.get(reverse("dedup:case", args=[case.pk])).content.decode()
    assert case.resident.nik in page and case.candidate.nik in page
    assert "Simpan keputusan" in page


def test_case_page_for_malformed_or_foreign_id_is_404(client, case, supervisor, make_staff):
    client.force_login(supervisor)
    assert client.get(reverse("dedup:case", args=["bukan-uuid"])).status_code == 404
    assert client.get(reverse("dedup:case", args=[uuid.uuid4()])).status_code == 404
    client.force_login(make_staff(Role.SUPERVISOR, region="18.71", username="kadis-lain"))
    assert client.get(reverse("dedup:case", args=[case.pk])).status_code == 404


def test_supervisor_decides_on_the_page(client, case, supervisor):
    client.force_login(supervisor)
    url = reverse("dedup:case", args=[case.pk])
    answer = client.post(url, {"decision": "confirmed_duplicate", "reason": "Iris dan wajah sama"})
    assert answer.status_code == 302
    page = client.get(url).content.decode()
    assert "Pemberitahuan kepada penduduk" in page
    assert f"digabungkan ke NIK {case.candidate.nik}" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "ok"}, "Pilih keputusan"),
        ({"decision": "gabung", "reason": "ok"}, "Keputusan harus"),
        ({"decision": "not_duplicate", "reason": ""}, "Alasan keputusan wajib diisi"),
        ({"decision": "not_duplicate", "reason": "   "}, "Alasan keputusan wajib diisi"),
        ({"decision": "not_duplicate", "reason": "x" * 300}, "paling banyak 250"),
    ],
)
def test_decision_form_refuses_bad_input(client, case, supervisor, data, message):
    client.force_login(supervisor)
    answer = client.post(reverse("dedup:case", args=[case.pk]), data)
    assert answer.status_code == 400
    assert message in answer.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_deciding_twice_on_the_page_says_it_was_decided(client, case, supervisor):
    client.force_login(supervisor)
    url = reverse("dedup:case", args=[case.pk])
    client.post(url, {"decision": "not_duplicate", "reason": "Kembar"})
    answer = client.post(url, {"decision": "confirmed_duplicate", "reason": "Ubah"})
    assert answer.status_code == 400
    assert "sudah diputuskan" in answer.content.decode()


def test_province_admin_sees_but_cannot_decide(client, case, make_staff):
    client.force_login(make_staff(Role.PROVINCE_ADMIN, region="18", username="prov"))
    url = reverse("dedup:case", args=[case.pk])
    assert "Simpan keputusan" not in client.get(url).content.decode()
    answer = client.post(url, {"decision": "not_duplicate", "reason": "x"})
    assert answer.status_code == 400
    assert "Hanya supervisor" in answer.content.decode()


def test_scan_page_schedules_a_scan(
    client, supervisor, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("dedup:scan"), {"region": "18.09"}, follow=True)
    assert "dijadwalkan" in answer.content.decode()
    assert AuditEvent.objects.filter(object_type="dedup_scan", object_id="18.09").exists()


@pytest.mark.parametrize(
    ("region", "message"),
    [
        ("", "Kode wilayah wajib diisi"),
        ("18/09", "Kode wilayah tidak sah"),
        ("99.99", "tidak dikenal"),
        ("18.71", "di luar wilayah kerja"),
    ],
)
def test_scan_page_refuses_bad_region(client, supervisor, region, message):
    client.force_login(supervisor)
    answer = client.post(reverse("dedup:scan"), {"region": region}, follow=True)
    assert message in answer.content.decode()
    assert not AuditEvent.objects.filter(object_type="dedup_scan_request").exists()


def test_scan_page_refuses_get_and_operators(client, supervisor, operator):
    client.force_login(supervisor)
    assert client.get(reverse("dedup:scan")).status_code == 405
    client.force_login(operator)
    assert client.post(reverse("dedup:scan"), {"region": "18.09"}).status_code == 403


# API


def _auth(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {issue_api_token(user=user, name='uji')}"}


def test_api_lists_and_reads_cases(client, case, supervisor):
    headers = _auth(supervisor)
    listed = client.get("/api/v1/dedup/cases", **headers)
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()] == [str(case.pk)]
    one = client.get(f"/api/v1/dedup/cases/{case.pk}", **headers)
    assert one.json()["candidate_nik"] == case.candidate.nik


def test_api_decides_a_case(client, case, supervisor):
    answer = client.post(
        f"/api/v1/dedup/cases/{case.pk}/decision",
        {"decision": "not_duplicate", "reason": "Kembar"},
        content_type="application/json",
        **_auth(supervisor),
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "not_duplicate"
    assert _status(case.resident) == KtpStatus.PRINT_READY_RECORD


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"decision": "gabung", "reason": "x"}, 422),
        ({"decision": "not_duplicate"}, 422),
        ({"decision": "not_duplicate", "reason": ""}, 422),
        ({"decision": "not_duplicate", "reason": "x" * 251}, 422),
        ({"decision": "not_duplicate", "reason": "   "}, 422),
    ],
)
def test_api_refuses_bad_decisions(client, case, supervisor, body, status):
    answer = client.post(
        f"/api/v1/dedup/cases/{case.pk}/decision",
        body,
        content_type="application/json",
        **_auth(supervisor),
    )
    assert answer.status_code == status
    assert answer.json()["detail"]
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_api_refuses_operators_unknown_ids_bad_status_and_second_decisions(
    client, case, supervisor, operator
):
    assert client.get("/api/v1/dedup/cases", **_auth(operator)).status_code == 403
    answer = client.post(
        f"/api/v1/dedup/cases/{case.pk}/decision",
        {"decision": "not_duplicate", "reason": "x"},
        content_type="application/json",
        **_auth(operator),
    )
    assert answer.status_code == 403
    headers = _auth(supervisor)
    assert client.get("/api/v1/dedup/cases/bukan-uuid", **headers).status_code == 404
    assert client.get("/api/v1/dedup/cases", {"status": "x"}, **headers).status_code == 422
    assert client.get("/api/v1/dedup/cases", {"limit": 0}, **headers).status_code == 422
    url = f"/api/v1/dedup/cases/{case.pk}/decision"
    body = {"decision": "not_duplicate", "reason": "x"}
    client.post(url, body, content_type="application/json", **headers)
    again = client.post(url, body, content_type="application/json", **headers)
    assert again.status_code == 409
    assert "sudah diputuskan" in again.json()["detail"]


def test_api_without_token_is_refused(client):
    assert client.get("/api/v1/dedup/cases").status_code == 401

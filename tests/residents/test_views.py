import pytest
from django.urls import reverse

from ektp.core.models import AuditEvent
from ektp.residents.models import Resident
from tests.residents.factories import ResidentFactory, resident_data

pytestmark = pytest.mark.django_db


def _form(**overrides):
    data = resident_data(**overrides)
    data["birth_date"] = str(data["birth_date"]) if data["birth_date"] is not None else ""
    return {k: v for k, v in data.items() if v is not None}


def test_search_by_nik_opens_the_resident_and_is_audited(operator_client, operator):
    resident = ResidentFactory(name="SITI RAHAYU")
    response = operator_client.get(reverse("residents:search"), {"q": resident.nik})
    assert response.status_code == 302
    page = operator_client.get(response["Location"])
    assert "SITI RAHAYU" in page.content.decode()
    assert AuditEvent.objects.filter(action="search", user=operator).exists()
    assert AuditEvent.objects.filter(action="view", object_id=resident.nik).exists()


def test_search_by_name_and_by_village(operator_client):
    ResidentFactory(name="AHMAD FAUZI", address_region_id="18.09.01.2001")
    ResidentFactory(name="AHMAD YANI", address_region_id="18.09.02.2001")
    by_name = operator_client.get(reverse("residents:search"), {"q": "ahmad"}).content.decode()
    assert "AHMAD FAUZI" in by_name and "AHMAD YANI" in by_name
    by_village = operator_client.get(
        reverse("residents:search"), {"desa": "18.09.02.2001", "q": "ahmad"}
    )
    assert by_village.status_code == 302


def test_search_by_kecamatan_and_bad_region_code(operator_client):
    ResidentFactory(name="WAYAN", address_region_id="18.09.02.2001")
    ResidentFactory(name="WAHYU", address_region_id="18.09.01.2001")
    page = operator_client.get(reverse("residents:search"), {"desa": "18.09.02", "q": "wa"})
    assert page.status_code == 302  # exactly one: straight to the resident
    bad = operator_client.get(reverse("residents:search"), {"desa": "18.0"}).content.decode()
    assert "Tidak ada penduduk yang cocok" in bad


def test_search_by_kk_number(operator_client):
    from tests.residents.factories import FamilyFactory

    family = FamilyFactory()
    ResidentFactory(family=family, name="KEPALA")
    ResidentFactory(family=family, name="ANAK")
    page = operator_client.get(
        reverse("residents:search"), {"q": family.kk_number}
    ).content.decode()
    assert "KEPALA" in page and "ANAK" in page


def test_create_from_the_form(operator_client):
    data = _form(name="Dewi Lestari", sex="P")
    response = operator_client.post(reverse("residents:create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Resident.objects.get(nik=data["nik"]).name == "DEWI LESTARI"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"nik": "18090117"}, "16 digit"),
        ({"nik": "1809011705900000"}, "0000"),
        ({"birth_date": "2001-02-30"}, "tanggal yang sah"),
        ({"address_region": "99.99.99.9999"}, "tidak dikenal"),
        ({"name": "N" * 101}, "100"),
        ({"rt": "abc"}, "RT"),
    ],
)
def test_create_form_names_the_broken_rule_and_saves_nothing(operator_client, overrides, message):
    before = Resident.objects.count()
    response = operator_client.post(reverse("residents:create"), _form(**overrides))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Resident.objects.count() == before


def test_duplicate_nik_on_the_form(operator_client):
    existing = ResidentFactory()
    response = operator_client.post(
        reverse("residents:create"),
        _form(nik=existing.nik, birth_date=existing.birth_date, sex=existing.sex),
    )
    assert response.status_code == 422
    assert "sudah terdaftar" in response.content.decode()


def test_edit_from_the_form(operator_client):
    resident = ResidentFactory(birth_date=__import__("datetime").date(1990, 5, 17))
    data = _form(nik=resident.nik, name="Nama Baru", birth_date=resident.birth_date)
    response = operator_client.post(reverse("residents:edit", args=[resident.nik]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    resident.refresh_from_db()
    assert resident.name == "NAMA BARU"
    assert operator_client.get(reverse("residents:edit", args=[resident.nik])).status_code == 200


def test_region_browser(operator_client):
    page = operator_client.get(reverse("regions:detail", args=["18.09"])).content.decode()
    assert "Gedong Tataan" in page
    assert operator_client.get(reverse("regions:detail", args=["xx"])).status_code == 404
    assert operator_client.get(reverse("regions:detail", args=["18.99"])).status_code == 404


def test_english_is_available(operator_client):
    operator_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = operator_client.get(
        reverse("residents:search"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'lang="en"' in page and "Find a resident" in page and "Cari penduduk" not in page

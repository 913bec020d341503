import pytest

from ektp.regions import codes, selectors
from ektp.regions.models import Region
from ektp.regions.services import load_regions

pytestmark = pytest.mark.django_db


def test_shipped_data_has_every_current_region_of_kepmendagri_2025():
    current = Region.objects.filter(valid_to__isnull=True)
    assert current.filter(level=1).count() == 38
    assert current.filter(level=2).count() == 514
    assert current.filter(level=3).count() == 7285
    assert current.filter(level=4).count() == 83762


def test_loading_twice_changes_nothing():
    result = load_regions()
    assert result.created == 0 and result.updated == 0
    assert result.unchanged == Region.objects.count()


def test_loading_restores_a_changed_name():
    Region.objects.filter(code="18.09").update(name="Salah")
    result = load_regions()
    assert result.updated == 1
    assert Region.objects.get(code="18.09").name == "Kabupaten Pesawaran"


def test_pesawaran_population_by_sex():
    region = Region.objects.get(code="18.09")
    assert (region.population_male, region.population_female) == (257325, 243722)
    assert region.population == 501047


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("18", "provinsi"),
        ("18.09", "kabupaten"),
        ("18.71", "kota"),
        ("18.09.01", "kecamatan"),
        ("18.09.01.2001", "desa"),
        ("18.71.01.1001", "kelurahan"),
        ("91.01.01.3001", "desa_adat"),
    ],
)
def test_kind_is_read_from_the_code(code, kind):
    assert codes.kind_of(code) == kind


def test_children_and_ancestors():
    kecamatan = [r.code for r in selectors.children_of("18.09")]
    assert "18.09.01" in kecamatan and all(c.startswith("18.09.") for c in kecamatan)
    assert [r.code for r in selectors.ancestors_of("18.09.01.2001")] == ["18", "18.09", "18.09.01"]


def test_search_by_name_within_a_district():
    found = list(selectors.search_regions("tataan", within="18.09"))
    assert any(r.code == "18.09.01" for r in found)
    assert all(r.code.startswith("18.09.") for r in found)


def test_old_codes_are_kept_with_an_end_date():
    old = Region.objects.filter(valid_to__isnull=False)
    assert old.exists()
    assert not old.filter(level=4).exists()


@pytest.mark.parametrize(
    "bad",
    [
        *("", "1", "18.9", "18.09.1", "18-09", "18.09.01.20011", "ab"),
        *("18\n", "18.09\n", "18.09.01.2001\n", "\n18", " 18.09", "18.09 ", "18.09\r\n"),
    ],
)
def test_malformed_codes_are_rejected(bad):
    assert not codes.is_valid_code(bad)


@pytest.mark.parametrize("good", ["18", "18.09", "18.09.01", "18.09.01.2001"])
def test_well_formed_codes_are_accepted(good):
    assert codes.is_valid_code(good)

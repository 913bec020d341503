"""Province and national staff open a district's page without naming the district: they
are asked to choose one, not shown an error."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ektp.core.models import Role
from tests.cards.factories import OfficeFactory
from tests.conftest import EVERY_ROLE

pytestmark = pytest.mark.django_db


@pytest.fixture
def offices():
    return [
        OfficeFactory(region_id="18.09", name="Disdukcapil Kabupaten Pesawaran"),
        OfficeFactory(region_id="18.01", name="Disdukcapil Kabupaten Lampung Selatan"),
        OfficeFactory(region_id="16.71", name="Disdukcapil Kota Palembang"),
    ]


@pytest.fixture
def national(make_staff):
    return make_staff(Role.SYSTEM_ADMIN, region=None, username="admin-nasional")


@pytest.fixture
def province(make_staff):
    return make_staff(Role.PROVINCE_ADMIN, region="18", username="admin-lampung")


@pytest.mark.parametrize("page", ["cards:stock", "cards:cover", "suket:list", "suket:outstanding"])
def test_province_staff_choose_among_their_own_districts(client, province, offices, page):
    client.force_login(province)
    response = client.get(reverse(page))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Pilih kabupaten/kota" in body
    assert f'href="{reverse(page)}?kab=18.01"' in body
    assert f'href="{reverse(page)}?kab=18.09"' in body
    assert "Palembang" not in body  # another province
    assert client.get(reverse(page), {"kab": "18.09"}).status_code == 200


def test_national_staff_choose_among_every_district(client, national, offices):
    client.force_login(national)
    body = client.get(reverse("cards:stock")).content.decode()
    assert body.index("?kab=16.71") < body.index("?kab=18.01") < body.index("?kab=18.09")


def test_the_choice_keeps_the_rest_of_the_query(client, province, offices):
    client.force_login(province)
    body = client.get(reverse("cards:stock"), {"jenis": "receipt"}).content.decode()
    assert f'href="{reverse("cards:stock")}?jenis=receipt&amp;kab=18.09"' in body


def test_national_staff_choose_a_district_to_plan_outreach(client, national, offices):
    client.force_login(national)
    response = client.get(reverse("outreach:home"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Saran kunjungan dihitung per kabupaten/kota" in body
    assert f'href="{reverse("outreach:home")}?wilayah=18.09"' in body
    assert client.get(reverse("outreach:home"), {"wilayah": "18.09"}).status_code == 200


def test_a_province_without_offices_says_so(client, make_staff, offices):
    client.force_login(make_staff(Role.PROVINCE_ADMIN, region="17", username="admin-bengkulu"))
    body = client.get(reverse("suket:list")).content.decode()
    assert "Belum ada kantor Disdukcapil di wilayah kerja Anda." in body


def test_a_district_outside_the_jurisdiction_is_not_found_and_says_why(client, province, offices):
    client.force_login(province)
    response = client.get(reverse("cards:stock"), {"kab": "16.71"})
    assert response.status_code == 404
    assert "Kantor Disdukcapil tidak ditemukan di wilayah kerja Anda." in response.content.decode()
    assert client.get(reverse("cards:stock"), {"kab": "bukan-kode"}).status_code == 404


def test_a_form_sent_without_a_district_is_refused_not_answered_with_a_list(
    client, national, offices
):
    client.force_login(national)
    response = client.post(reverse("cards:receive"), {"first_serial": "1", "last_serial": "2"})
    assert response.status_code == 404
    assert "Pilih kabupaten/kota" not in response.content.decode()


def test_district_staff_go_straight_to_their_office(client, make_staff, offices):
    client.force_login(make_staff(Role.SUPERVISOR, region="18.09"))
    response = client.get(reverse("cards:stock"))
    assert response.status_code == 200
    assert "Pilih kabupaten/kota" not in response.content.decode()


def test_an_unknown_address_keeps_the_general_message(client, national):
    client.force_login(national)
    response = client.get("/cetak/tidak-ada/")
    assert response.status_code == 404
    assert "Alamat yang Anda buka tidak ada." in response.content.decode()


@pytest.mark.parametrize(("role", "region"), EVERY_ROLE)
def test_the_menu_shows_each_role_exactly_the_pages_it_may_open(
    client, make_staff, offices, role, region
):
    """Every link of the top menu opens a page or a choice; every page the menu leaves out
    tells this role it may not open it."""
    from ektp.core.context_processors import MENU

    client.force_login(make_staff(role, region=region))
    home = client.get(reverse("core:home")).content.decode()
    menu = home[home.index("<nav>") : home.index("</nav>")]
    shown = re.findall(r'href="(/[^"]*)"', menu)
    assert len(shown) >= 4  # the gate officer: residents, queue, service points, regions
    assert {link: client.get(link).status_code for link in shown} == dict.fromkeys(shown, 200)
    hidden = [reverse(name) for name, _ in MENU if reverse(name) not in shown]
    assert {link: client.get(link).status_code for link in hidden} == dict.fromkeys(hidden, 403)


@pytest.mark.parametrize(("role", "region"), EVERY_ROLE)
def test_every_link_of_each_roles_home_page_opens(client, make_staff, offices, role, region):
    """The home page's tiles, like the menu, only lead where the role may go."""
    client.force_login(make_staff(role, region=region))
    home = client.get(reverse("core:home")).content.decode()
    tiles = home[home.index('<div class="tiles">') :]
    links = re.findall(r'href="(/[^"]*)"', tiles[: tiles.index("</div>")])
    assert links
    assert {link: client.get(link).status_code for link in links} == dict.fromkeys(links, 200)


def test_the_admin_tile_shows_only_to_a_system_admin_with_a_staff_account(client, make_staff):
    user = make_staff(Role.SYSTEM_ADMIN, region=None)
    client.force_login(user)
    assert 'href="/admin/"' not in client.get(reverse("core:home")).content.decode()
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    assert 'href="/admin/"' in client.get(reverse("core:home")).content.decode()
    assert client.get("/admin/").status_code == 200

"""One language at a time: Indonesian whatever the browser says, English only when chosen."""

from __future__ import annotations

from django.urls import reverse


def test_a_browser_set_to_english_still_gets_indonesian(operator_client):
    response = operator_client.get(reverse("residents:search"), HTTP_ACCEPT_LANGUAGE="en-US,en")
    page = response.content.decode()
    assert 'lang="id"' in page and "Cari penduduk" in page and "Find a resident" not in page
    assert response["Content-Language"] == "id"


def test_the_public_status_page_ignores_the_browser_language_too(client):
    page = client.get(reverse("portal:status"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="id"' in page


def test_choosing_english_makes_the_page_english(operator_client):
    operator_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = operator_client.get(reverse("residents:search"), HTTP_ACCEPT_LANGUAGE="id")
    page = response.content.decode()
    assert 'lang="en"' in page and "Find a resident" in page and "Cari penduduk" not in page
    assert response["Content-Language"] == "en"


def test_choosing_indonesian_again_switches_back(operator_client):
    operator_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    operator_client.post(reverse("set_language"), {"language": "id", "next": "/"})
    page = operator_client.get(reverse("residents:search"), HTTP_ACCEPT_LANGUAGE="en").content
    assert "Cari penduduk" in page.decode()


def test_a_cookie_with_an_unknown_language_falls_back_to_indonesian(operator_client):
    operator_client.cookies["django_language"] = "fr"
    page = operator_client.get(reverse("residents:search")).content.decode()
    assert 'lang="id"' in page and "Cari penduduk" in page


def test_a_regional_variant_of_english_in_the_cookie_is_english(operator_client):
    operator_client.cookies["django_language"] = "en-gb"
    page = operator_client.get(reverse("residents:search")).content.decode()
    assert 'lang="en"' in page

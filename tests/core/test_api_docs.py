"""The API's documentation page works without internet: Swagger UI comes from this server."""

import re

import pytest

pytestmark = pytest.mark.django_db

REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def test_api_docs_reference_no_external_host(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    references = REFERENCE.findall(page)
    assert any(ref.endswith("swagger-ui-bundle.js") for ref in references)
    for ref in references:
        assert ref.startswith("/") and not ref.startswith("//"), ref
    assert "cdn." not in page and "https://" not in page


def test_api_docs_assets_are_served_by_this_server(client):
    page = client.get("/api/v1/docs").content.decode()
    for ref in REFERENCE.findall(page):
        response = client.get(ref)
        assert response.status_code == 200, ref
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body, ref

"""Fuzz the sync API from its own OpenAPI schema: never a server error, always a reason."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.mark.slow
@pytest.mark.django_db
@schema.include(path_regex="^/api/v1/sync").parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_sync_api_answers_malformed_input_without_a_server_error(
    case, keep_test_connection, settings, tmp_path
):
    settings.EKTP_KEY_DIR = tmp_path / "keys"
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    if response.status_code >= 400 and response.status_code != 405:
        assert response.json()["detail"]

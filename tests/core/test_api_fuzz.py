"""Fuzz the regions and residents API from its own OpenAPI schema: never a server error."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.mark.slow
@pytest.mark.django_db
@schema.include(path_regex="^/api/v1/(regions|residents|auth)").parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_answers_malformed_input_without_a_server_error(case, api_token, keep_test_connection):
    response = case.call(headers={"Authorization": f"Bearer {api_token}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    if response.status_code >= 400 and response.status_code != 405:
        assert response.json()["detail"]

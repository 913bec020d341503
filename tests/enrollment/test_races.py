import threading

import pytest
from django.db import connection

from ektp.core.models import Role
from ektp.core.services import create_staff_user
from ektp.enrollment.models import Enrollment, StatusChange
from ektp.enrollment.services import EnrollmentError, record_enrollment
from ektp.regions.models import Region
from tests.enrollment.factories import open_point, simulated
from tests.residents.factories import ResidentFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_operators_recording_the_same_resident_make_one_enrollment():
    region = Region.objects.get(code="18.09")
    operators = [
        create_staff_user(
            username=f"op{i}", password="x-Y-z-123456", role=Role.OPERATOR, region=region
        )
        for i in range(2)
    ]
    resident = ResidentFactory()
    point, kit = open_point()
    captures = simulated(str(resident.pk))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(operator):
        try:
            barrier.wait()
            record_enrollment(
                resident=resident,
                service_point=point,
                device=kit,
                operator=operator,
                captures=captures,
            )
            outcomes.append("ok")
        except EnrollmentError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(op,)) for op in operators]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[-1] == "ok" and outcomes.count("ok") == 1, outcomes
    assert Enrollment.objects.filter(resident=resident).count() == 1
    assert StatusChange.objects.filter(resident=resident).count() == 1

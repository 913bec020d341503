"""A small office for the backup tests, built and inspected in a process of its own.

`python -m tests.core.backup_scenario build|inspect` runs with the environment the test gives
(EKTP_VAR_DIR, DATABASE_URL), so settings read that install and nothing of the test's own.
Each prints one JSON line. Synthetic data only.
"""

from __future__ import annotations

import json
import os
import sys

SUBJECTS = 3
POPULATION_SEED = 20261207


def _templates():
    from ektp.abis import synthetic

    return synthetic.make_population(SUBJECTS, seed=POPULATION_SEED)


def build() -> dict:
    """Migrate, seed a small district, issue a suket and enroll iris templates in the ABIS."""
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from ektp.abis.service import LocalAbis
    from ektp.core.backup import table_counts
    from ektp.core.models import User
    from ektp.dedup.engine import close_engine, get_engine
    from ektp.offices.models import Office
    from ektp.residents.models import KtpStatus, Resident
    from ektp.suket.services import issue_suket

    call_command("migrate", verbosity=0)
    call_command("seed", region="18.09", residents=40, seed=7, no_progress=True, verbosity=0)
    residents = list(Resident.objects.filter(kabkota_code="18.09").order_by("nik")[:SUBJECTS])
    holder = residents[0]
    Resident.objects.filter(pk=holder.pk).update(
        ktp_status=KtpStatus.SENT_FOR_ENROLLMENT, recorded_on=timezone.localdate()
    )
    holder.refresh_from_db()
    suket = issue_suket(
        resident=holder,
        office=Office.objects.filter(region_id="18.09").order_by("pk").first(),
        officer=User.objects.get(username="operator"),
        purpose="Uji cadangan",
    )
    engine = get_engine()
    subjects = [str(r.pk) for r in residents]
    for subject, template in zip(subjects[:-1], _templates()[:-1], strict=True):
        engine.insert(subject, template.tobytes())
    if isinstance(engine, LocalAbis):
        engine.checkpoint()  # the gallery then holds a snapshot and a journal
    engine.insert(subjects[-1], _templates()[-1].tobytes())
    close_engine()
    public_key = Client().get("/api/v1/suket/public-key").json()["public_key_pem"]
    tables = table_counts()  # last: nothing after it writes
    return {
        "tables": tables,
        "suket_number": suket.number,
        "qr_payload": suket.qr_payload,
        "public_key": public_key,
        "subjects": subjects,
    }


def inspect() -> dict:
    """Report row counts, whether the suket QR verifies, and what the ABIS finds for probes."""
    import numpy as np
    from django.test import Client

    from ektp.abis import synthetic
    from ektp.abis.iris import IrisTemplate
    from ektp.core.backup import table_counts
    from ektp.dedup.engine import close_engine, get_engine

    tables = table_counts()
    client = Client()
    payload = os.environ["SCENARIO_QR_PAYLOAD"]
    verified = client.post(
        "/api/v1/suket/verify-qr", {"payload": payload}, content_type="application/json"
    )
    public_key = client.get("/api/v1/suket/public-key").json()["public_key_pem"]
    engine = get_engine()
    found = []
    for index, template in enumerate(_templates()):
        probe = synthetic.recapture(
            IrisTemplate.from_bytes(template.tobytes()), np.random.default_rng(index)
        )
        answer = engine.identify(probe.to_bytes())
        found.append(answer.candidates[0].subject_id if answer.match else None)
    count = engine.count()
    close_engine()
    return {
        "tables": tables,
        "verify_status": verified.status_code,
        "verify": verified.json(),
        "public_key": public_key,
        "gallery_count": count,
        "identified": found,
    }


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ektp.settings")
    django.setup()
    action = {"build": build, "inspect": inspect}[sys.argv[1]]
    print(json.dumps(action()))

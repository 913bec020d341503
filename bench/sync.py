"""Push recorded packets (with their sealed biometrics) from an edge to an office on loopback.

    python bench/sync.py [--packets 1000] [--chunk 65536]

Three processes on one machine: the office served by granian (the WSGI server `ektp serve`
runs, one worker) on a throwaway SQLite file, and an edge on its own SQLite file that
enrols, records `--packets` residents with the simulator driver (each packet signed and
its biometrics sealed to the office key) and pushes its outbox with `ektp edge`'s own
client (urllib): metadata, then bytes, then the office verifies, stores and hands each
recording to the normal lifecycle (record, send to penunggalan).

Reference, in the same run, same server, same client stack: a bare Django view that reads
the same bytes and answers "ok", one request per packet. The ratio says what the protocol
and the office's work cost over moving the bytes. Both databases are SQLite made from the
models (no migration history); the figures are for the record, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT / "src"))

SETTINGS = """
from ektp.settings import *  # noqa: F403


class _NoMigrations:
    def __contains__(self, app):
        return True

    def __getitem__(self, app):
        return None


MIGRATION_MODULES = _NoMigrations()
ROOT_URLCONF = "sync_bench_urls"
"""

URLS = """
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from ektp.urls import urlpatterns as ektp_urlpatterns


@csrf_exempt
def bare(request):
    return JsonResponse({"ok": True, "size": len(request.body)})


urlpatterns = [path("bare/", bare), *ektp_urlpatterns]
"""

VILLAGE = "18.09.01.2001"


def _setup_django() -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "sync_bench_settings"
    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)


def office_setup(packets: int) -> dict:
    """Regions, a mobile point open today, staff, residents, a registered device and its code."""
    import datetime as dt

    from django.utils import timezone

    from ektp.core.models import Role
    from ektp.core.services import create_staff_user
    from ektp.offices.models import Office, ServicePoint, SpecialDay
    from ektp.regions.models import Region
    from ektp.residents.models import Resident
    from ektp.residents.nik import make_nik
    from ektp.sync import services

    parent = None
    for code, level, name in [
        ("18", 1, "LAMPUNG"),
        ("18.09", 2, "KAB. PESAWARAN"),
        ("18.09.01", 3, "GEDONG TATAAN"),
        (VILLAGE, 4, "BAGELEN"),
    ]:
        parent = Region.objects.create(code=code, level=level, name=name, parent=parent)
    office = Office.objects.create(region_id="18.09", name="Disdukcapil Kab. Pesawaran")
    point = ServicePoint.objects.create(
        office=office, kind=ServicePoint.Kind.MOBILE, code="MK-1", name="Mobil Keliling 1"
    )
    SpecialDay.objects.create(
        office=office,
        service_point=point,
        day=timezone.localdate(),
        is_open=True,
        opens_at=dt.time(0, 0),
        closes_at=dt.time(23, 59),
        reason="Bench",
    )
    region = Region.objects.get(code="18.09")
    password = "kata-sandi-bench-2026"
    supervisor = create_staff_user(
        username="kepala", password=password, role=Role.SUPERVISOR, region=region
    )
    operator = create_staff_user(
        username="petugas", password=password, role=Role.OPERATOR, region=region
    )
    birth = dt.date(1990, 1, 1)
    Resident.objects.bulk_create(
        Resident(
            nik=make_nik(kecamatan_code="18.09.01", birth_date=birth, sex="L", serial=n + 1),
            name=f"PENDUDUK BENCH {n}",
            birth_place="PESAWARAN",
            birth_date=birth,
            sex="L",
            religion="islam",
            mother_name="IBU",
            address_region_id=VILLAGE,
            rt="001",
            rw="001",
            kecamatan_code="18.09.01",
            kabkota_code="18.09",
            province_code="18",
        )
        for n in range(packets)
    )
    _device, code = services.register_device(
        name="Laptop bench",
        service_point=point,
        operator=operator,
        villages=[VILLAGE],
        actor=supervisor,
    )
    return {"code": code, "niks": list(Resident.objects.values_list("nik", flat=True))}


def office_approve() -> dict:
    from ektp.core.models import User
    from ektp.sync import services
    from ektp.sync.models import EdgeDevice

    services.approve_device(
        device=EdgeDevice.objects.get(), actor=User.objects.get(username="kepala")
    )
    return {}


def office_count() -> dict:
    from ektp.enrollment.models import Enrollment
    from ektp.sync.models import InboundPacket

    return {
        "packets": InboundPacket.objects.count(),
        "processed": InboundPacket.objects.filter(state="diproses").count(),
        "enrollments": Enrollment.objects.count(),
    }


def edge_enrol(server: str, code: str) -> dict:
    from ektp.sync import edge

    edge.enrol(server_url=server, code=code)
    return {}


def edge_push(niks: list[str], chunk: int) -> dict:
    from ektp.enrollment.biometrics import SimulatorDevice, capture_all
    from ektp.sync import edge
    from ektp.sync.client import HttpTransport

    started = time.perf_counter()
    for nik in niks:
        captures, _ = capture_all(device=SimulatorDevice(seed=nik))
        edge.record(nik=nik, captures=captures, operator="petugas")
    recorded = time.perf_counter() - started
    from ektp.sync.models import OutboxPacket

    contents = [
        bytes(c)
        for c in OutboxPacket.objects.order_by("sequence").values_list("content", flat=True)
    ]
    found = edge.node()
    transport = HttpTransport(found.server_url)

    started = time.perf_counter()
    for data in contents:  # reference: the same bytes, one bare request each
        answer = transport.send(
            "PUT", "/bare/", body=data, headers={"Content-Type": "application/octet-stream"}
        )
        assert answer.status == 200, answer
    bare = time.perf_counter() - started

    started = time.perf_counter()
    report = edge.push(office=edge.client_for(found), chunk=chunk)
    pushed = time.perf_counter() - started
    return {
        "recorded_s": recorded,
        "bare_s": bare,
        "push_s": pushed,
        "pushed": report.pushed,
        "refused": report.refused,
        "bytes": sum(len(c) for c in contents),
    }


ROLES = {
    "office-setup": lambda a: office_setup(a.packets),
    "office-approve": lambda a: office_approve(),
    "office-count": lambda a: office_count(),
    "edge-enrol": lambda a: edge_enrol(a.server, a.code),
    "edge-push": lambda a: edge_push(json.loads(Path(a.niks).read_text()), a.chunk),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=64 * 1024)
    parser.add_argument("--role", choices=sorted(ROLES), help=argparse.SUPPRESS)
    parser.add_argument("--server", help=argparse.SUPPRESS)
    parser.add_argument("--code", help=argparse.SUPPRESS)
    parser.add_argument("--niks", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        _setup_django()
        print(json.dumps(ROLES[args.role](args)))
        return

    with tempfile.TemporaryDirectory(prefix="ektp-bench-sync-") as tmp:
        tmp = Path(tmp)
        (tmp / "sync_bench_settings.py").write_text(SETTINGS)
        (tmp / "sync_bench_urls.py").write_text(URLS)
        base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        base["PYTHONPATH"] = f"{tmp}{os.pathsep}{ROOT / 'src'}"
        base["DJANGO_SETTINGS_MODULE"] = "sync_bench_settings"
        office_env = {**base, "EKTP_VAR_DIR": str(tmp / "office"), "EKTP_NODE_ID": "office"}
        edge_env = {**base, "EKTP_VAR_DIR": str(tmp / "edge"), "EKTP_NODE_ID": "edge-bench"}

        def role(name: str, env: dict, *extra: str) -> dict:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--role",
                    name,
                    "--packets",
                    str(args.packets),
                    "--chunk",
                    str(args.chunk),
                    *extra,
                ],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            return json.loads(out.strip().splitlines()[-1])

        setup = role("office-setup", office_env)
        (tmp / "niks.json").write_text(json.dumps(setup["niks"]))
        port = _free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "granian",
                "--interface",
                "wsgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--blocking-threads",
                "1",
                "--log-level",
                "warning",
                "ektp.wsgi:application",
            ],
            env=office_env,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.3)
            url = f"http://127.0.0.1:{port}"
            role("edge-enrol", edge_env, "--server", url, "--code", setup["code"])
            role("office-approve", office_env)
            result = role("edge-push", edge_env, "--niks", str(tmp / "niks.json"))
        finally:
            server.terminate()
            server.wait(20)
        counts = role("office-count", office_env)

    n = result["pushed"]
    with open("/proc/loadavg") as handle:
        load = handle.read().strip()
    print(f"packets: {n} pushed, {result['refused']} refused; office: {counts}")
    print(f"mean packet: {result['bytes'] / max(n, 1) / 1024:.1f} KiB")
    print(f"recording into the outbox: {args.packets / result['recorded_s']:.1f} packets/s")
    print(
        f"push (metadata + bytes + verify + record + send to penunggalan): "
        f"{n / result['push_s']:.1f} packets/s ({result['push_s']:.1f} s)"
    )
    print(
        f"bare upload of the same bytes: {args.packets / result['bare_s']:.1f} requests/s "
        f"({result['bare_s']:.1f} s)"
    )
    print(f"ratio push / bare: {result['push_s'] / result['bare_s']:.1f}x the time")
    print(f"loadavg: {load}")


if __name__ == "__main__":
    main()

"""Demo staff accounts, one per role, for a seeded district."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ektp.core.models import Role, User
from ektp.regions.models import Region

DEMO_PASSWORD = "demo-ektp-2026"
DEMO_USERS = [
    ("gerbang", Role.GATE_OFFICER, "Petugas Gerbang", "kabkota"),
    ("operator", Role.OPERATOR, "Operator Perekaman", "kabkota"),
    ("kadis", Role.SUPERVISOR, "Kepala Dinas", "kabkota"),
    ("provinsi", Role.PROVINCE_ADMIN, "Admin Provinsi", "provinsi"),
    ("admin", Role.SYSTEM_ADMIN, "Admin Sistem", "none"),
]


def ensure_demo_users(region: Region) -> list[tuple[str, str, str]]:
    """Create (or keep) one demo login per role; return (username, password, role label)."""
    logins = []
    for username, role, full_name, scope in DEMO_USERS:
        bound = {"kabkota": region, "provinsi": region.parent, "none": None}[scope]
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "role": role,
                "region": bound,
                "first_name": full_name,
                "is_staff": role == Role.SYSTEM_ADMIN,
                "is_superuser": role == Role.SYSTEM_ADMIN,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        logins.append((username, DEMO_PASSWORD, user.get_role_display()))
    return logins


DEMO_TREND_DAYS = 14


def prepare_demo_district(region: Region, *, today: dt.date | None = None) -> None:
    """Give a seeded district its staff, office, service points, devices, blank stock, the
    biometrics of its BIO_CAPTURED residents, and the daily coverage of its last two weeks
    (so that a new user sees a trend)."""
    from ektp.cards.services import ensure_demo_stock
    from ektp.coverage.services import backfill_snapshots
    from ektp.coverage.stats import forget_all_counts, forget_counts
    from ektp.enrollment.demo import ensure_demo_recordings
    from ektp.offices.demo import ensure_demo_offices

    ensure_demo_users(region)
    office = ensure_demo_offices(region)
    ensure_demo_stock(office)
    ensure_demo_recordings(office)
    now = timezone.localdate()
    forget_all_counts()  # the residents were written in bulk, past the signals
    backfill_snapshots(within=region.code, days=DEMO_TREND_DAYS, today=min(today or now, now))
    forget_counts()  # the past days' counts were read for the trend: start from the rows

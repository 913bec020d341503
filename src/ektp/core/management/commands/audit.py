"""`ektp audit verify`: check the audit log's hash chain and name its first broken link."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ektp.core.selectors import first_broken_audit_link


class Command(BaseCommand):
    help = "Periksa rantai hash catatan audit (verify) dan sebutkan mata rantai pertama yang putus."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"], help="verify: periksa rantai audit.")

    def handle(self, *args, **opts):
        checked, broken = first_broken_audit_link()
        if broken is not None:
            where = f"catatan audit nomor {broken.seq}"
            if broken.event_id:
                where += f" (id {broken.event_id})"
            raise CommandError(
                f"Rantai audit putus pada {where}: {broken.reason}. "
                f"{checked} catatan sebelumnya utuh."
            )
        self.stdout.write(f"Rantai audit utuh: {checked} catatan diperiksa.")

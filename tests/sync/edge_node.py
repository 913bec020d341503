"""An edge node in its own process, driven line by line from its standard input.

Each line is an `ektp edge …` argument list (or `resend-all`, which marks every packet of the
outbox unsent so that the next sync pushes them again); each answer is one JSON line
{"ok": bool, "out": str, "error": str}. Run with DJANGO_SETTINGS_MODULE=tests.sync.edge_settings.
"""

from __future__ import annotations

import io
import json
import shlex
import sys

import django


def main() -> None:
    django.setup()
    from django.core.management import CommandError, call_command

    from ektp.sync.models import OutboxPacket

    call_command("migrate", run_syncdb=True, verbosity=0)
    print(json.dumps({"ok": True, "out": "ready", "error": ""}), flush=True)
    for line in sys.stdin:
        args = shlex.split(line)
        if not args:
            continue
        out = io.StringIO()
        try:
            if args == ["resend-all"]:
                OutboxPacket.objects.update(pushed_at=None)
            else:
                call_command("edge", *args, stdout=out)
            answer = {"ok": True, "out": out.getvalue().strip(), "error": ""}
        except CommandError as error:
            answer = {"ok": False, "out": out.getvalue().strip(), "error": str(error)}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()

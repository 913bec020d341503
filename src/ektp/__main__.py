"""The `ektp` command: Django's manage entry with our settings."""

import os
import sys


def main() -> None:
    """Run a management command with ektp's settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ektp.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

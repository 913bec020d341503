"""Settings of an edge node in the two-node test: the same program on its own SQLite file,
its tables made from the models (no migration history to replay: seconds, not minutes)."""

from ektp.settings import *  # noqa: F403 (the edge is the same program with one change)


class _NoMigrations:
    def __contains__(self, app: str) -> bool:
        return True

    def __getitem__(self, app: str) -> None:
        return None


MIGRATION_MODULES = _NoMigrations()

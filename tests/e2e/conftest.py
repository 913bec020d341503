"""Browser journeys: each saves its screenshots under var/e2e-shots/<module>/<test>/ (the
var directory is not committed), and can check a page with axe-core (tests/e2e/a11y.py)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from tests.e2e.a11y import assert_accessible


class Shots:
    """Number and save the screenshots of one test."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.taken = 0

    def save(self, page, name: str) -> Path:
        """Save the whole page as NN-name.png; return the file."""
        self.taken += 1
        slug = re.sub(r"[^\w-]+", "-", name).strip("-") or "halaman"
        path = self.folder / f"{self.taken:02d}-{slug}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request) -> Shots:
    """The screenshot saver of this test (its folder is emptied first)."""
    test = re.sub(r"[^\w-]+", "-", request.node.name).strip("-")
    folder = Path(settings.VAR_DIR) / "e2e-shots" / request.node.module.__name__.split(".")[-1]
    folder = folder / test
    shutil.rmtree(folder, ignore_errors=True)
    return Shots(folder)


@pytest.fixture
def page(page, shots):
    """The browser page of tests/conftest.py, whose last state is saved when the test ends."""
    yield page
    if not page.is_closed() and page.url.startswith("http"):
        shots.save(page, "akhir")


@pytest.fixture
def look(shots):
    """Check the page a journey reached: save its screenshot, then run axe-core's contrast and
    label rules on it. `look(page, "cetak")` in a journey, at each page worth keeping."""

    def look(page, name: str) -> None:
        shots.save(page, name)
        assert_accessible(page)

    return look

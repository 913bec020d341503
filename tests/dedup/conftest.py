import pytest

from ektp.dedup.engine import close_engine


@pytest.fixture(autouse=True)
def _abis(settings, tmp_path):
    """Give every test its own in-process gallery on disk, closed afterwards."""
    settings.ABIS_URL = None
    settings.ABIS_DATA_DIR = str(tmp_path / "abis")
    yield
    close_engine()

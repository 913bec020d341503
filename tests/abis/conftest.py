import pytest

from ektp.abis import synthetic


@pytest.fixture(scope="session")
def population():
    """Return 5,000 synthetic subjects as serialised templates."""
    return synthetic.make_population(5_000, seed=20240501)

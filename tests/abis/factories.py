"""Build synthetic iris templates and galleries for the ABIS tests."""

import os

import numpy as np

from ektp.abis import iris, synthetic
from ektp.abis.gallery import Gallery
from ektp.abis.iris import IrisTemplate
from ektp.abis.matchers import IrisMatcher

# The key that seals the galleries the tests keep on disk (each run its own).
KEYS = [os.urandom(32)]


def subject_id(index: int) -> str:
    """Return a readable subject id for a population index."""
    return f"S{index:06d}"


def template_at(population: np.ndarray, index: int) -> IrisTemplate:
    """Return one template of a synthetic population."""
    return IrisTemplate.from_bytes(population[index].tobytes())


def filled_gallery(population: np.ndarray, **options) -> Gallery:
    """Return a gallery holding every template of ``population`` under ``subject_id(i)``."""
    gallery = Gallery(IrisMatcher(), **options)
    for index, record in enumerate(population):
        gallery.insert(subject_id(index), record.tobytes())
    return gallery


def genuine_probe(template: IrisTemplate, seed: int) -> IrisTemplate:
    """Return a new capture of the same eyes."""
    return synthetic.recapture(template, np.random.default_rng(seed))


def random_records(rows: int, seed: int) -> np.ndarray:
    """Return random templates whose masks have varied densities, one eye fully masked."""
    rng = np.random.default_rng(seed)
    records = rng.integers(0, 256, size=(rows, iris.TEMPLATE_BYTES), dtype=np.uint8)
    eyes = records.reshape(rows, 2, 2, iris.CODE_BYTES)
    density = rng.uniform(0.0, 1.0, size=(rows, 2, 1))
    eyes[:, :, 1] = np.packbits(
        rng.random((rows, 2, iris.CODE_BITS)) < density, axis=-1, bitorder="little"
    )
    eyes[min(3, rows - 1), 1, 1] = 0
    return records

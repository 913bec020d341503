import numpy as np
import pytest

from ektp.abis.errors import InvalidTemplate
from ektp.abis.gallery import Gallery
from ektp.abis.matchers import IrisMatcher, Matcher, get_matcher
from ektp.abis.service import LocalAbis

from .factories import KEYS


class EmbeddingMatcher(Matcher):
    """Match 8-dimensional face embeddings by Euclidean distance, as a face plug-in would."""

    modality = "face"
    template_size = 32

    def encode(self, template):
        return np.asarray(template, dtype="<f4").tobytes()

    def decode(self, data):
        if len(data) != self.template_size:
            raise InvalidTemplate(f"face template must be {self.template_size} bytes")
        return np.frombuffer(data, dtype="<f4")

    def compare(self, a, b):
        return float(np.linalg.norm(self.decode(self.record(a)) - self.decode(self.record(b))))

    def scan(self, probe, records, alive):
        vectors = records.view("<f4")
        scores = np.linalg.norm(vectors - self.decode(probe), axis=1)
        return np.where(alive, scores, np.inf)

    def threshold(self, per_comparison_fmr):
        return 0.1


def test_a_non_iris_matcher_plugs_into_the_gallery():
    rng = np.random.default_rng(0)
    faces = rng.standard_normal((100, 8)).astype("<f4")
    gallery = Gallery(EmbeddingMatcher())
    for index, face in enumerate(faces):
        gallery.insert(f"F{index}", face)
    gallery.delete("F3")

    result = gallery.identify(faces[42] + 0.01)

    assert result.match is True
    assert result.candidates[0].subject_id == "F42"
    assert gallery.identify(faces[3]).match is False


def test_a_non_iris_matcher_persists_and_serves_next_to_iris(tmp_path):
    face = np.arange(8, dtype="<f4")
    with LocalAbis(
        tmp_path, matchers=[IrisMatcher(), EmbeddingMatcher()], fsync=False, keys=KEYS
    ) as abis:
        abis.insert("F1", face.tobytes(), modality="face")
        abis.checkpoint()

    with LocalAbis(
        tmp_path, matchers=[IrisMatcher(), EmbeddingMatcher()], fsync=False, keys=KEYS
    ) as abis:
        assert abis.ping()["modalities"] == {"iris": 0, "face": 1}
        assert abis.identify(face.tobytes(), modality="face").candidates[0].subject_id == "F1"


def test_iris_matcher_counts_eyes_times_rotations_per_record():
    assert IrisMatcher(shifts=3).comparisons_per_record == 14
    assert get_matcher("iris").modality == "iris"


def test_matcher_rejects_an_object_of_another_modality():
    with pytest.raises(InvalidTemplate, match="IrisTemplate"):
        IrisMatcher().record(np.zeros(8, dtype="<f4"))

"""Dataset readers and scoring of `alpr evaluate`, with a stand-in recogniser (no model needed)."""

import cv2
import numpy as np
import pytest

from alpr.evaluation import evaluate, load_dataset, pattern_from_name
from alpr.pipeline import Char, Plate


def test_pattern_from_name_treats_hidden_characters_as_optional():
    pattern = pattern_from_name("00001_AN-074-C-V")
    for text in ["074XCYV", "074CV", "0745CV"]:
        assert pattern.fullmatch(text), text
    for text in ["074XXCYV", "74CV", "074CXYV"]:
        assert not pattern.fullmatch(text), text
    assert pattern_from_name("no_pattern_here") is None


class FixedReader:
    """Returns the same plate for every image."""

    def __init__(self, plate):
        self.plate = plate

    def read(self, image):
        return [self.plate] if self.plate else []

    def read_crop(self, image):
        return self.plate


def write_image(path, w=200, h=100):
    cv2.imwrite(str(path), np.full((h, w, 3), 128, np.uint8))


def test_openalpr_scoring(tmp_path):
    write_image(tmp_path / "a.jpg")
    (tmp_path / "a.txt").write_text("a.jpg\t20\t30\t100\t25\tAB123\n")
    samples = load_dataset(tmp_path, "openalpr")
    hit = Plate("AB123", "eu", 0.9, [[22, 30], [120, 30], [120, 55], [22, 55]])
    result = evaluate(FixedReader(hit), samples, "openalpr")
    assert result["detection_recall"] == 1.0 and result["plate_exact_match"] == 1.0
    miss = Plate("AB128", "eu", 0.9, [[150, 0], [200, 0], [200, 10], [150, 10]])
    result = evaluate(FixedReader(miss), samples, "openalpr")
    assert result["detection_recall"] == 0.0 and result["detection_precision"] == 0.0
    assert result["plate_exact_match"] == 0.0


def test_yolo_chars_scoring(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    write_image(tmp_path / "images" / "00001_AN-12-4-BC.jpg")
    # '1' at x 10-30, '2' at 35-55 (pixels of a 200x100 crop), class 1 and 2
    (tmp_path / "labels" / "00001_AN-12-4-BC.txt").write_text("1 0.1 0.5 0.1 0.6\n2 0.225 0.5 0.1 0.6\n")
    samples = load_dataset(tmp_path, "yolo-chars")
    chars = [Char("1", 0.9, [10, 20, 20, 60]), Char("7", 0.9, [35, 20, 20, 60])]
    plate = Plate("1274BC", "es", 0.9, [[0, 0], [200, 0], [200, 100], [0, 100]], chars)
    result = evaluate(FixedReader(plate), samples, "yolo-chars")
    assert result["plate_pattern_match"] == 1.0
    assert result["char_box_recall"] == 1.0 and result["char_accuracy"] == 0.5


@pytest.mark.parametrize("fmt", ["openalpr", "yolo-plates", "nonsense"])
def test_empty_or_unknown_datasets_are_clear_errors(tmp_path, fmt):
    with pytest.raises(ValueError, match="no labelled images|unknown format"):
        load_dataset(tmp_path, fmt)


def test_unreadable_image_is_counted_as_failed(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"broken")
    (tmp_path / "a.txt").write_text("a.jpg\t1\t1\t10\t10\tAB1\n")
    result = evaluate(FixedReader(None), load_dataset(tmp_path, "openalpr"), "openalpr")
    assert result["failed"] == 1 and result["images"] == 0


class TwoStageReader(FixedReader):
    """A detector returning two quads, of which the reader reads only the first."""

    def __init__(self, plate, quads):
        super().__init__(plate)
        self.quads = quads

    def detect(self, image):
        from alpr.detect import Detection

        return [Detection(np.asarray(q, np.float32), 0.9) for q in self.quads]

    def read(self, image, *, detections=None):
        assert detections is not None and len(detections) == len(self.quads)
        return [self.plate]


def test_detection_and_read_figures_are_separate(tmp_path):
    """Detection figures score the detector's quads; read figures and texts the plates read."""
    write_image(tmp_path / "a.jpg")
    (tmp_path / "a.txt").write_text("a.jpg\t20\t30\t100\t25\tAB123\n")
    samples = load_dataset(tmp_path, "openalpr")
    miss = Plate("AB128", "eu", 0.9, [[150, 0], [200, 0], [200, 10], [150, 10]])
    quads = [[[22, 30], [120, 30], [120, 55], [22, 55]], [[150, 0], [200, 0], [200, 10], [150, 10]]]
    result = evaluate(TwoStageReader(miss, quads), samples, "openalpr")
    assert result["detection_recall"] == 1.0 and result["detection_precision"] == 0.5
    assert result["read_recall"] == 0.0 and result["read_precision"] == 0.0 and result["plate_exact_match"] == 0.0
    assert result["records"][0]["detected"][0] == [22.0, 30.0, 98.0, 25.0]

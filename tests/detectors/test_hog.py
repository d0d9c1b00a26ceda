"""OpenCV HOG people detector, the fallback that needs no weights."""

import numpy as np
import pytest

from detectors.config import DetectorConfig
from detectors.hog import HogPeopleDetector
from tests.detectors.helpers import match_count


@pytest.fixture(scope="module")
def hog_on_frame_120(vtest_frames):
    det = HogPeopleDetector(DetectorConfig(kind="hog"))
    assert det.name == "hog"
    return det.detect(vtest_frames[120])


def test_finds_people_on_a_vtest_frame(hog_on_frame_120):
    out = hog_on_frame_120
    assert len(out) >= 1
    assert (out.class_id == 0).all()
    assert ((out.confidence >= 0.5) & (out.confidence <= 1)).all()


def test_a_detection_matches_the_ground_truth(hog_on_frame_120, vtest_gt):
    assert match_count(hog_on_frame_120.xyxy, vtest_gt[120]) >= 1


def test_blank_image_and_non_person_classes():
    blank = np.full((240, 320, 3), 128, np.uint8)
    assert len(HogPeopleDetector(DetectorConfig(kind="hog")).detect(blank)) == 0
    assert len(HogPeopleDetector(DetectorConfig(kind="hog", classes=["car"])).detect(blank)) == 0

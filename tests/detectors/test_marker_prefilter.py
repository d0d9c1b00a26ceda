"""The marker detector's cheap YCrCb prefilter must not change a single detection."""

import cv2
import numpy as np

from detectors.marker import HSV_HIGH, HSV_LOW, PREFILTER_HIGH, PREFILTER_LOW, MarkerDetector
from tests.detectors.helpers import draw_marker


def full_frame_reference(image: np.ndarray, min_area: float = 50.0) -> np.ndarray:
    """The detector as it was before the prefilter: HSV on the whole frame."""
    mask = cv2.inRange(cv2.cvtColor(image, cv2.COLOR_BGR2HSV), HSV_LOW, HSV_HIGH)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = [(x, y, x + w, y + h) for x, y, w, h in map(cv2.boundingRect, contours) if w * h >= min_area]
    return np.array(sorted(boxes, key=lambda b: (b[1], b[0])), dtype=np.float32).reshape(-1, 4)


def test_every_colour_in_the_hsv_band_passes_the_ycrcb_box():
    # All 2^24 colours as one 4096 x 4096 image (48 MiB).
    codes = np.arange(1 << 24, dtype=np.uint32)
    bgr = np.stack([codes & 255, (codes >> 8) & 255, codes >> 16], axis=1).astype(np.uint8).reshape(4096, 4096, 3)
    in_band = cv2.inRange(cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV), HSV_LOW, HSV_HIGH)
    in_box = cv2.inRange(cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb), PREFILTER_LOW, PREFILTER_HIGH)
    assert cv2.countNonZero(in_band) > 0
    assert cv2.countNonZero(cv2.bitwise_and(in_band, cv2.bitwise_not(in_box))) == 0


def test_same_boxes_as_full_frame_hsv_on_random_scenes():
    rng = np.random.default_rng(7)
    det = MarkerDetector()
    for _ in range(300):
        h, w = int(rng.integers(40, 200)), int(rng.integers(40, 260))
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8) // int(rng.integers(1, 4))
        for _ in range(int(rng.integers(0, 12))):
            x0, y0 = int(rng.integers(-10, w)), int(rng.integers(-10, h))
            x1, y1 = x0 + int(rng.integers(1, 60)), y0 + int(rng.integers(1, 60))
            # Magenta, near-magenta (inside and just outside the band), and purple / pink.
            colour = (int(rng.integers(80, 256)), int(rng.integers(0, 130)), int(rng.integers(80, 256)))
            shape = int(rng.integers(0, 3))
            if shape == 0:
                cv2.rectangle(img, (x0, y0), (x1, y1), colour, -1)
            elif shape == 1:  # rings (blobs inside holes of other blobs)
                cv2.rectangle(img, (x0, y0), (x1, y1), colour, int(rng.integers(1, 4)))
            else:
                cv2.line(img, (x0, y0), (x1, y1), colour, int(rng.integers(1, 3)))
        if rng.random() < 0.3:  # codec-like noise on the edges
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 50])
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        np.testing.assert_array_equal(det.detect(img).xyxy.reshape(-1, 4), full_frame_reference(img))


def test_nested_and_touching_markers_match_the_reference():
    img = np.full((120, 160, 3), 80, np.uint8)
    cv2.rectangle(img, (10, 10), (90, 100), (255, 0, 255), 3)  # a ring ...
    draw_marker(img, (40, 40, 60, 70))  # ... with a marker inside its hole: not an outer contour
    draw_marker(img, (100, 10, 130, 60))
    draw_marker(img, (130, 60, 150, 100))  # touches the previous one at a corner
    out = MarkerDetector().detect(img).xyxy
    np.testing.assert_array_equal(out, full_frame_reference(img))
    assert len(out) == 2

"""The columnar `Detections` contract that detectors, trackers and rules share."""

import numpy as np
import pytest

from detectors.detections import UNTRACKED, Detections


def make(n: int = 3) -> Detections:
    xyxy = np.array([[0, 0, 10, 20], [5, 5, 15, 25], [100, 50, 140, 150]], dtype=np.float64)[:n]
    return Detections(xyxy, [0.9, 0.5, 0.7][:n], [0, 2, 0][:n])


def test_columns_are_normalised_to_contract_dtypes():
    d = make()
    assert d.xyxy.dtype == np.float32 and d.xyxy.shape == (3, 4)
    assert d.confidence.dtype == np.float32
    assert d.class_id.dtype == np.int32
    assert d.tracker_id.dtype == np.int64
    assert (d.tracker_id == UNTRACKED).all() and not d.is_tracked.any()


def test_mismatched_column_lengths_are_rejected():
    with pytest.raises(ValueError, match="confidence"):
        Detections(np.zeros((2, 4)), [0.5], [0, 0])
    with pytest.raises(ValueError, match="tracker_id"):
        Detections(np.zeros((2, 4)), [0.5, 0.5], [0, 0], [1])


def test_mask_index_and_slice_keep_rows_aligned():
    d = make()
    people = d[d.class_id == 0]
    assert len(people) == 2
    np.testing.assert_allclose(people.confidence, [0.9, 0.7])
    np.testing.assert_allclose(people.xyxy[1], [100, 50, 140, 150])
    single = d[1]
    assert len(single) == 1 and single.class_id[0] == 2
    assert len(d[:0]) == 0


def test_anchors():
    d = make(1)
    np.testing.assert_allclose(d.anchors(), [[5, 20]])
    np.testing.assert_allclose(d.anchors("center"), [[5, 10]])
    np.testing.assert_allclose(d.anchors("top_center"), [[5, 0]])
    with pytest.raises(ValueError):
        d.anchors("left")  # type: ignore[arg-type]


def test_empty_and_merge():
    e = Detections.empty()
    assert len(e) == 0 and e.xyxy.shape == (0, 4) and e.anchors().shape == (0, 2)
    m = Detections.merge([make(2), e, make(1)])
    assert len(m) == 3
    assert len(Detections.merge([])) == 0


def test_supervision_round_trip_keeps_columns():
    d = Detections(make().xyxy, make().confidence, make().class_id, [4, 5, 6])
    back = Detections.from_supervision(d.to_supervision())
    np.testing.assert_allclose(back.xyxy, d.xyxy)
    np.testing.assert_allclose(back.confidence, d.confidence)
    assert back.class_id.tolist() == [0, 2, 0]
    assert back.tracker_id.tolist() == [4, 5, 6]

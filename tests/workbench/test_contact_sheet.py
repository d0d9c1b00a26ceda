"""The contact sheet: decodable, at most N tiles, spread over the replay, captions per tile."""

from __future__ import annotations

import cv2
import numpy as np

from ingest.workbench.contact_sheet import TILE_W, caption, pick, write_contact_sheet
from ingest.workbench.fence_events import FenceEvent


def snapshots(tmp_path, n):
    events = []
    for i in range(n):
        img = np.full((300, 400, 3), 40 * i % 255, np.uint8)
        path = tmp_path / f"s{i}.jpg"
        cv2.imwrite(str(path), img)
        events.append(FenceEvent("gate-line", "tripwire", 10.0 * i, i, "a_to_b", path.resolve().as_uri()))
    return events


def test_sheet_has_at_most_n_tiles_and_decodes(tmp_path):
    events = snapshots(tmp_path, 7)
    sheet = write_contact_sheet(events, tmp_path / "sheet.jpg", title="clip", max_tiles=5, columns=3)
    assert (sheet.tiles, sheet.events) == (5, 7)
    img = cv2.imread(str(sheet.path))
    assert img is not None
    # 5 tiles in 3 columns: 2 rows of 400-px-wide tiles (aspect of the snapshots kept).
    assert img.shape[1] == 3 * TILE_W + 4 * 4
    tile_h = 300 + 26
    assert img.shape[0] == 34 + 2 * tile_h + 3 * 4


def test_pick_spreads_tiles_over_time_and_keeps_all_when_few(tmp_path):
    events = snapshots(tmp_path, 10)
    chosen = pick(list(reversed(events)), 4)
    assert [e.t for e in chosen] == [0.0, 30.0, 60.0, 90.0]
    assert len(pick(events, 24)) == 10


def test_caption_names_rule_time_track_and_direction():
    assert caption(FenceEvent("gate-line", "tripwire", 75.25, 12, "b_to_a")) == "gate-line  1:15.2  #12  b_to_a"
    assert caption(FenceEvent("yard", "zone_intrusion", 3.0, 4)) == "yard  0:03.0  #4"


def test_no_events_still_writes_an_image(tmp_path):
    sheet = write_contact_sheet([], tmp_path / "empty.jpg", title="quiet night")
    assert sheet.tiles == 0 and cv2.imread(str(sheet.path)) is not None


def test_missing_snapshot_gets_a_placeholder_tile(tmp_path):
    sheet = write_contact_sheet([FenceEvent("r", "zone_intrusion", 1.0, 1, None, None)], tmp_path / "s.jpg")
    assert sheet.tiles == 1 and cv2.imread(str(sheet.path)) is not None

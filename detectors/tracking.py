"""Multi-object tracking: ByteTrack (roboflow `trackers`) driven by frame timestamps.

ByteTrack matches boxes by IoU only, so a person walking past a parked car could take over
the car's track. One ByteTrack per class prevents that; their local ids are mapped to one
id space so ids stay unique per camera. Where two people pass each other and their boxes come
out on the wrong tracks, `detectors.swaps` swaps the ids back (`swap_check`); given the frame, it
also gives a new id to a track that somebody untracked took over.
"""

from __future__ import annotations

import numpy as np

from detectors.appearance import describe
from detectors.config import TrackerConfig
from detectors.detections import Detections
from detectors.swaps import SwapGuard

# trackers expresses its lost-track buffer in frames of a nominal 30 FPS video.
_NOMINAL_FPS = 30.0


class Tracker:
    def __init__(self, cfg: TrackerConfig, fps: float) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.cfg = cfg
        self.fps = float(fps)
        # With timestamps, trackers prunes after lost_track_buffer / 30 seconds and, without,
        # after fps / 30 * lost_track_buffer frames: both equal lost_track_s.
        self._buffer = max(1, round(cfg.lost_track_s * _NOMINAL_FPS))
        self.reset()

    def reset(self) -> None:
        self._per_class: dict[int, object] = {}
        self._guards: dict[int, SwapGuard] = {}
        self._global: dict[tuple[int, int], int] = {}
        self._next_id = 0
        self._last_t: float | None = None
        # Ids the last update gave to boxes split off a taken-over track: somebody new, so a
        # later stage must not treat them as the lost id's continuation (rules' hand-over).
        self.last_splits: set[int] = set()

    def _new_tracker(self):
        import trackers

        common = dict(lost_track_buffer=self._buffer, frame_rate=self.fps,
                      minimum_consecutive_frames=self.cfg.min_hits, high_conf_det_threshold=self.cfg.high_score)
        if self.cfg.kind == "ocsort":
            return trackers.OCSORTTracker(**common, minimum_iou_threshold=self.cfg.match_iou)
        if self.cfg.kind == "botsort":
            return trackers.BoTSORTTracker(**common, track_activation_threshold=self.cfg.min_score,
                                           minimum_iou_threshold_first_assoc=self.cfg.match_iou, enable_cmc=False)
        return self._new_bytetrack()

    def _new_bytetrack(self):
        from trackers import ByteTrackTracker

        return ByteTrackTracker(
            lost_track_buffer=self._buffer,
            frame_rate=self.fps,
            track_activation_threshold=self.cfg.min_score,
            minimum_consecutive_frames=self.cfg.min_hits,
            minimum_iou_threshold=self.cfg.match_iou,
            high_conf_det_threshold=self.cfg.high_score,
        )

    def update(self, dets: Detections, t: float, image: np.ndarray | None = None) -> Detections:
        """Tracked objects of this frame (tracker_id >= 0); unconfirmed boxes are left out.

        Call it only for frames the detector saw: t (seconds) tells the Kalman filter how far
        objects moved since the previous call, however many frames were skipped in between.
        `image` (the BGR frame the detections came from) lets the swap check also see colours.
        """
        import supervision as sv

        self.last_splits = set()
        if self._last_t is not None and t <= self._last_t:
            if t < self._last_t:  # the source restarted: old tracks are meaningless
                self.reset()
            else:  # a repeated frame adds no information
                return Detections.empty()
        self._last_t = t

        for c in np.unique(dets.class_id).tolist():
            if c not in self._per_class:
                self._per_class[c] = self._new_tracker()

        out_rows: list[np.ndarray] = []
        out_ids: list[np.ndarray] = []
        for c, bt in list(self._per_class.items()):
            rows = np.flatnonzero(dets.class_id == c)
            sv_dets = sv.Detections(
                xyxy=dets.xyxy[rows].astype(np.float32).reshape(-1, 4),
                confidence=dets.confidence[rows],
                class_id=dets.class_id[rows].astype(int),
                # Carrying the row index through lets us copy class and score back exactly.
                data={"row": rows},
            )
            result = bt.update(sv_dets, timestamp=t)
            if len(result):
                local = np.asarray(result.tracker_id, dtype=np.int64)
                ok = local >= 0
                if self.cfg.swap_check:
                    self._check_swaps(c, t, local[ok], np.asarray(result.xyxy)[ok], image)
                out_rows.append(np.asarray(result.data["row"], dtype=np.int64)[ok])
                out_ids.append(np.array([self._global_id(c, int(i)) for i in local[ok]], dtype=np.int64))
            self._forget_dead(c, bt)

        if not out_rows or not sum(len(r) for r in out_rows):
            return Detections.empty()
        rows = np.concatenate(out_rows)
        picked = dets[rows]
        return Detections(picked.xyxy, picked.confidence, picked.class_id, np.concatenate(out_ids))

    def _check_swaps(self, c: int, t: float, ids: np.ndarray, xyxy: np.ndarray, image) -> None:
        guard = self._guards.setdefault(c, SwapGuard(self.cfg.swap_margin, self.cfg.split_distance))
        looks = describe(image, xyxy) if image is not None else None
        verdict = guard.update(t, ids, xyxy, looks)
        for a, b in verdict.swaps:
            ka, kb = (c, a), (c, b)
            ga, gb = self._global_id(*ka), self._global_id(*kb)
            self._global[ka], self._global[kb] = gb, ga
        for a in verdict.splits:
            self._global[(c, a)] = self._next_id
            self.last_splits.add(self._next_id)
            self._next_id += 1

    def _global_id(self, c: int, local: int) -> int:
        key = (c, local)
        if key not in self._global:
            self._global[key] = self._next_id
            self._next_id += 1
        return self._global[key]

    def _forget_dead(self, c: int, bt) -> None:
        # Keeps memory flat in a 24/7 process: expired tracks drop their id mapping, and a
        # class with no live tracks drops its tracker.
        alive = {int(tr.tracker_id) for tr in bt.tracks}
        for key in [k for k in self._global if k[0] == c and k[1] not in alive]:
            del self._global[key]
        if c in self._guards:
            self._guards[c].forget(alive)
        if not bt.tracks:
            del self._per_class[c]
            self._guards.pop(c, None)

    @property
    def active_count(self) -> int:
        return sum(len(bt.tracks) for bt in self._per_class.values())

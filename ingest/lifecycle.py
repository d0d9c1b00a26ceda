"""Alert lifecycle on the worker: one alert per condition, with updates and an end (issue 6).

A loitering person who stays for ten minutes is one alert, not one every cooldown: while any
track of an open alert is still in view, a re-fire of the same rule for the same tracks becomes
an `update` of that alert (same `alert_id`, next `sequence`), the alert is refreshed with the
tracks' current boxes every `update_every_s`, and once none of its tracks has been seen for
`end_after_s` it gets an `end`. The messages are built with `alerts.build.follow_up`, so
consumers that ignore lifecycles still dedupe them (DESIGN-NOTES "Alert lifecycle").

The rule engine stays a pure event source (replays and the accuracy benchmarks count rule
firings); only the live worker folds firings into lifecycles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from alerts.build import follow_up
from alerts.lifecycle import LifecycleConfig
from alerts.model import Alert, AlertObject
from detectors.detections import Detections


Key = tuple[str, str, frozenset[int]]


@dataclass
class _Open:
    alert: Alert
    tracks: frozenset[int]
    opened_t: float  # frame clock of the start
    last_seen_t: float
    last_update_t: float


class AlertLifecycle:
    """Folds one camera's rule firings into start / update / end messages. Not thread-safe."""

    def __init__(self, config: LifecycleConfig | None = None) -> None:
        self.config = config or LifecycleConfig()
        self.open: dict[Key, _Open] = {}
        self.last_t: float | None = None  # clock of the last frame processed

    @staticmethod
    def key(alert: Alert) -> Key:
        return alert.source.id, alert.rule.id, frozenset(o.track_id for o in alert.objects if o.track_id >= 0)

    def process(self, fired: list[Alert], tracks: Detections, t: float) -> list[Alert]:
        """The messages to publish for this frame: new starts, updates and ends, in that order."""
        self.last_t = t
        if not self.config.enabled or not (fired or self.open):
            return fired  # the common frame: nothing fired, nothing open
        out: list[Alert] = []
        for alert in fired:
            out.append(self._fired(alert, t) if alert.rule.kind in self.config.kinds else alert)
        present = set(int(i) for i in tracks.tracker_id[tracks.tracker_id >= 0])
        for key, entry in list(self.open.items()):
            if entry.tracks & present:
                entry.last_seen_t = t
            if not entry.tracks:
                del self.open[key]  # a firing about no track has nothing to follow: start only
            elif t - entry.last_seen_t >= self.config.end_after_s:
                out.append(self._end(entry, entry.last_seen_t))  # ended when last seen
                del self.open[key]
            elif t - entry.opened_t >= self.config.max_open_s:
                out.append(self._end(entry, t))
                del self.open[key]
            elif t - entry.last_update_t >= self.config.update_every_s:
                out.append(self._refresh(entry, tracks, t))
        return out

    def close_all(self, t: float | None = None) -> list[Alert]:
        """Ends for every open alert (the worker is stopping or the camera went away), at `t` or
        the last frame's clock."""
        if t is None:
            t = self.last_t if self.last_t is not None else 0.0
        ends = [self._end(entry, t) for entry in self.open.values() if entry.tracks]
        self.open.clear()
        return ends

    # -- steps -----------------------------------------------------------------------------------

    def _observed(self, entry: _Open, t: float):
        return entry.alert.observed_at + timedelta(seconds=t - entry.last_update_t)

    def _fired(self, alert: Alert, t: float) -> Alert:
        key = self.key(alert)
        entry = self.open.get(key)
        if entry is None:
            self.open[key] = _Open(alert, key[2], t, t, t)
            return alert
        # The same condition fired again (cooldown re-armed): an update, not a new alert.
        updated = follow_up(
            entry.alert, "update", observed_at=alert.observed_at, objects=alert.objects,
            snapshot=alert.snapshot or entry.alert.snapshot,
            evidence={**entry.alert.evidence, **alert.evidence, "refires": int(entry.alert.evidence.get("refires", 0)) + 1},
        )
        entry.alert, entry.last_seen_t, entry.last_update_t = updated, t, t
        return updated

    def _refresh(self, entry: _Open, tracks: Detections, t: float) -> Alert:
        boxes = {int(tid): i for i, tid in enumerate(tracks.tracker_id) if int(tid) in entry.tracks}
        objects = []
        for obj in entry.alert.objects:
            i = boxes.get(obj.track_id)
            if i is None:
                objects.append(obj)
                continue
            x1, y1, x2, y2 = (float(v) for v in tracks.xyxy[i])
            objects.append(AlertObject(track_id=obj.track_id, label=obj.label, confidence=float(tracks.confidence[i]),
                                       bbox=(x1, y1, x2, y2), point=((x1 + x2) / 2, y2), geo=None))
        observed = self._observed(entry, t)
        updated = follow_up(entry.alert, "update", observed_at=observed, objects=objects,
                            evidence={**entry.alert.evidence, "open_s": round(t - entry.opened_t, 3)})
        entry.alert, entry.last_update_t = updated, t
        return updated

    def _end(self, entry: _Open, t: float) -> Alert:
        observed = self._observed(entry, t)
        return follow_up(entry.alert, "end", observed_at=observed,
                         evidence={**entry.alert.evidence, "open_s": round(max(0.0, t - entry.opened_t), 3)})

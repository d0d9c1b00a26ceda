"""Object removed: an object that stood still for `min_static_s` is gone for `gone_s` -> one event.

The spots are abandoned_object's (rules/static_objects.py, shared through
`rules.abandoned.StaticObjectRule`). A spot counts as emptied when no object of the classes has
been seen within `static_radius` of it for `gone_s`, whether its track ended (taken while hidden
behind the taker) or was seen moving away (carried off). An object of the class showing up in
the spot again before that, under any track id, continues the spot: it was only hidden. With
`require_person_s` the rule fires only if someone of `owner_classes` was within
`owner_distance` of the spot at most that long before the object vanished, so an object the
detector merely lost (lighting, a long occlusion by a parked van) stays quiet. The event's
`started_at` is when the object was last seen, its object the object as last seen; the spot is
then forgotten.
"""

from __future__ import annotations

import math

from detectors.detections import Detections
from rules.abandoned import StaticObjectRule
from rules.config import ObjectRemovedSpec
from rules.events import RuleEvent

_EPS = 1e-9  # float frame times


class ObjectRemoved(StaticObjectRule):
    kind = "object_removed"
    spec: ObjectRemovedSpec

    def __init__(self, spec: ObjectRemovedSpec, camera_id: str, frame_size: tuple[int, int]):
        # A spot its object was carried out of is what this rule reports: keep it if it counted.
        super().__init__(spec, camera_id, frame_size, keep_after_s=spec.min_static_s - _EPS)

    def update(self, tracks: Detections, t: float) -> list[RuleEvent]:
        self.observe(tracks, t)
        spec, events = self.spec, []
        for spot in list(self.spots.spots):
            gone = t - spot.last_present
            if gone < spec.gone_s - _EPS or spot.static_s(t) < spec.min_static_s - _EPS:
                continue
            before = spot.last_present - spot.last_owner  # inf when nobody was ever near
            if spec.require_person_s is not None and before > spec.require_person_s + _EPS:
                continue
            if self.cooled(spot, t):  # a removal during the cooldown stays quiet
                evidence = {"static_s": round(spot.static_s(t), 3), "gone_s": round(gone, 3)}
                if math.isfinite(before):
                    evidence["person_near_s_before"] = round(max(before, 0.0), 3)
                events.append(self.fire(spot, t, spot.last_present, evidence))
            self.spots.drop(spot)
        return events

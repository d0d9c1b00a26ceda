"""Zone exit: a track seen inside a polygon is then seen outside -> one event per crossing.

The machine (firm side, candidate side held for `min_persist_s`, first sighting silent) is
zone_entrance's; see rules/zone_entrance.py. A track that vanishes inside the zone (occluded,
lost by the tracker) does not exit: only being *seen* outside counts.
"""

from __future__ import annotations

from rules.zone_entrance import OUTSIDE, ZoneTransition


class ZoneExit(ZoneTransition):
    kind = "zone_exit"
    fires_on = OUTSIDE

"""Undo id swaps when two people pass each other.

An IoU tracker follows boxes, not people. When two people overlap (one walks past the other, or
one is hidden and its track coasts on a prediction), the boxes that come out of the overlap can
go to the wrong tracks, and each person walks on under the other's id. Both stay in view, so
nothing is lost that a later stage could hand over. People keep their walking direction and
speed through such a meeting far better than boxes keep their positions, so this check
remembers each track's velocity from just before two tracks met and, once they are apart again
and each has been seen for a moment, compares it with how their boxes move now. If giving each
box the other's id explains the motion clearly better, the two ids are swapped back.

It works on any tracker's output (box streams keyed by the tracker's own ids), needs no image,
and costs a few array operations per frame. Velocities are in box heights per second, so the
threshold does not depend on resolution or on how far away the people are. It never decides
when it cannot: two people standing still, or walking side by side, move alike either way.

When one person's box is taken over by somebody the tracker never had (a person stepping out
from behind a post as the tracked one steps behind it), there is no second track to swap with.
Given colour descriptors (detectors/appearance.py), a track whose motion changes abruptly AND
whose colours change clearly at the same moment is split: the box gets a new id, so the newcomer
does not inherit the first person's rule state (cooldowns). Either sign alone is common (people
stop and turn; light and occlusion change colours). On PETS09-S2L1 (10 fps with and without the
motion gate, 5 fps) the abrupt motion changes of one and the same person came with colour
changes of at most 0.39, takeovers with 0.33-0.61; `split_distance` 0.5 splits none of the former.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from detectors.appearance import distance, mean

# Velocity before a meeting: fitted over up to this long a stretch of observations...
PRE_WINDOW_S = 1.0
# ...which must span at least this long (a track born just before the meeting has no direction).
MIN_SPAN_S = 0.3
# After the meeting, a decision waits until both tracks have been seen apart for this long.
SETTLE_S = 0.2
MIN_POST_OBS = 3
# A meeting that does not resolve in this long (people walking together) is dropped undecided.
MAX_MEETING_S = 4.0
# Split: velocity over the last POST_S against the POST_S..POST_S+PRE_WINDOW_S before it must
# differ by this much (box heights/s; a walker moves ~1 height/s, box jitter gives ~0.15).
POST_S = 0.3
SPLIT_DV = 0.6


@dataclass
class Verdict:
    swaps: list[tuple[int, int]]  # pairs of ids to exchange
    splits: list[int]  # ids whose box now shows somebody else: give it a new id


@dataclass
class _Meeting:
    pre: tuple[np.ndarray, np.ndarray] | None  # velocities (heights/s) before, None: undecidable
    last_touch: float


def _velocity(obs: list[tuple[float, float, float, float]]) -> np.ndarray:
    """Least-squares slope of the box centre over time, in box heights per second."""
    a = np.asarray(obs, dtype=np.float64)[:, :4]
    t = a[:, 0] - a[:, 0].mean()
    slope = (t[:, None] * (a[:, 1:3] - a[:, 1:3].mean(axis=0))).sum(axis=0) / float((t * t).sum())
    return slope / max(float(np.median(a[:, 3])), 1.0)


def _touching(xyxy: np.ndarray) -> np.ndarray:
    """(N, N) bool: boxes i and j overlap (any intersection), i != j."""
    lt = np.maximum(xyxy[:, None, :2], xyxy[None, :, :2])
    rb = np.minimum(xyxy[:, None, 2:], xyxy[None, :, 2:])
    hit = np.all(rb > lt, axis=2)
    np.fill_diagonal(hit, False)
    return hit


class SwapGuard:
    """Per tracker (one class): watches meetings of tracks and says which ids to swap back.

    `margin` (heights/s): the swapped reading must fit the velocities before the meeting better
    than the current one by at least this much, and by at least half of the current misfit.
    `split_distance`: colour change (detectors.appearance.distance) that, with an abrupt change
    of motion, makes a split.
    """

    def __init__(self, margin: float = 0.5, split_distance: float = 0.5) -> None:
        self.margin = margin
        self.split_distance = split_distance
        self._obs: dict[int, deque] = {}
        self._looks: dict[int, deque] = {}  # (t, descriptor) of frames where the box was alone
        self._meetings: dict[tuple[int, int], _Meeting] = {}

    def update(self, t: float, seen_ids: np.ndarray, seen_xyxy: np.ndarray,
               looks: np.ndarray | None = None) -> Verdict:
        """Record one frame's tracks (ids and boxes of those matched to a detection now, and
        optionally their colour descriptors) and say which ids to swap or split. Tracks not
        seen are assumed alive until `forget`."""
        seen_ids = [int(i) for i in seen_ids]
        seen_xyxy = np.asarray(seen_xyxy, dtype=np.float64).reshape(-1, 4)
        for i, b in zip(seen_ids, seen_xyxy):
            q = self._obs.setdefault(i, deque())
            q.append((t, (b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[3] - b[1], b[2] - b[0]))
            while q and q[0][0] < t - PRE_WINDOW_S - MAX_MEETING_S:
                q.popleft()
        if looks is not None and len(seen_ids):
            # Colours of a box that overlaps another mix two people: keep only lone boxes.
            alone = ~_touching(seen_xyxy).any(axis=1)
            for i, ok, d in zip(seen_ids, alone, np.asarray(looks, dtype=np.float64)):
                if ok and np.isfinite(d).all():
                    q = self._looks.setdefault(i, deque())
                    q.append((t, d))
                    while q and q[0][0] < t - PRE_WINDOW_S - POST_S:
                        q.popleft()
        # A track that lost its detection (a person hidden behind another) is where that person
        # would be had they kept walking: the tracker's own prediction often stops short.
        coasting = [i for i in self._obs if self._obs[i] and i not in set(seen_ids)]
        ids = seen_ids + coasting
        boxes = np.concatenate([seen_xyxy, np.array([self._extrapolate(i, t) for i in coasting]).reshape(-1, 4)])
        touching = set()
        if len(ids) > 1:
            for r, c in zip(*np.nonzero(np.triu(_touching(boxes)))):
                touching.add((min(ids[r], ids[c]), max(ids[r], ids[c])))
        for pair in touching:
            m = self._meetings.get(pair)
            if m is None:
                self._meetings[pair] = _Meeting(self._pre(pair, t), t)
            else:
                m.last_touch = t

        seen = set(seen_ids)
        swaps: list[tuple[int, int]] = []
        decided: set[int] = set()  # ids already swapped or split in this frame
        # A track in an unresolved meeting is left to the swap check: its partner is known.
        meeting = {i for pair in self._meetings for i in pair}
        splits = [i for i in seen_ids if i in self._looks and i not in meeting and self._taken_over(i, t)]
        for i in splits:
            # From now on this box stream is somebody new: forget the old person's past.
            self._trim(i, t - 1e-6)
            for pair in [p for p in self._meetings if i in p]:
                del self._meetings[pair]
            decided.add(i)
        for pair, m in list(self._meetings.items()):
            if pair in touching:
                continue
            a, b = pair
            if m.pre is None or t - m.last_touch > MAX_MEETING_S or a not in self._obs or b not in self._obs:
                del self._meetings[pair]
                continue
            if a not in seen or b not in seen:
                continue
            post_a = [o for o in self._obs[a] if o[0] > m.last_touch]
            post_b = [o for o in self._obs[b] if o[0] > m.last_touch]
            if min(len(post_a), len(post_b)) < MIN_POST_OBS or min(
                    post_a[-1][0] - post_a[0][0], post_b[-1][0] - post_b[0][0]) < SETTLE_S - 1e-6:
                continue
            del self._meetings[pair]
            if a in decided or b in decided:
                continue
            if self._should_swap(m.pre, (_velocity(post_a), _velocity(post_b))):
                swaps.append(pair)
                decided.update(pair)
                # Before the meeting each stream showed the other person: keep only what is
                # known to be the person now carrying the id.
                self._trim(a, m.last_touch)
                self._trim(b, m.last_touch)
        return Verdict(swaps, splits)

    def __len__(self) -> int:
        """Tracks this guard holds state for."""
        return len(self._obs)

    def forget(self, alive: set[int]) -> None:
        """Drop the state of tracks the tracker no longer has (a 24/7 process stays flat)."""
        for i in [i for i in self._obs if i not in alive]:
            del self._obs[i]
        for i in [i for i in self._looks if i not in alive]:
            del self._looks[i]
        for pair in [p for p in self._meetings if p[0] not in alive or p[1] not in alive]:
            del self._meetings[pair]

    def _trim(self, i: int, after: float) -> None:
        self._obs[i] = deque(o for o in self._obs[i] if o[0] > after)
        if i in self._looks:
            self._looks[i] = deque(o for o in self._looks[i] if o[0] > after)

    def _extrapolate(self, i: int, t: float) -> np.ndarray:
        q = self._obs[i]
        _, cx, cy, h, w = q[-1]
        obs = [o for o in q if o[0] >= q[-1][0] - PRE_WINDOW_S]
        if len(obs) >= 3 and obs[-1][0] - obs[0][0] >= MIN_SPAN_S - 1e-6:
            v = _velocity(obs) * h
            cx, cy = cx + v[0] * (t - q[-1][0]), cy + v[1] * (t - q[-1][0])
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])

    def _pre(self, pair: tuple[int, int], t: float) -> tuple[np.ndarray, np.ndarray] | None:
        out = []
        for i in pair:
            obs = [o for o in self._obs.get(i, ()) if t - PRE_WINDOW_S <= o[0] < t]
            if len(obs) < 3 or obs[-1][0] - obs[0][0] < MIN_SPAN_S - 1e-6:
                return None
            out.append(_velocity(obs))
        return out[0], out[1]

    def _taken_over(self, i: int, t: float) -> bool:
        """Motion and colours of track i both changed abruptly POST_S ago (see module doc)."""
        cut = t - POST_S - 1e-6
        post = [o for o in self._obs[i] if o[0] > cut]
        pre = [o for o in self._obs[i] if cut - PRE_WINDOW_S <= o[0] <= cut]
        if len(post) < MIN_POST_OBS or len(pre) < 3 or pre[-1][0] - pre[0][0] < MIN_SPAN_S - 1e-6:
            return False
        if np.linalg.norm(_velocity(post) - _velocity(pre)) < SPLIT_DV:
            return False
        before = [d for s, d in self._looks[i] if s <= cut]
        after = [d for s, d in self._looks[i] if s > cut]
        if len(before) < MIN_POST_OBS or len(after) < MIN_POST_OBS:
            return False
        return distance(mean(before), mean(after)) >= self.split_distance

    def _should_swap(self, pre, post) -> bool:
        keep = np.linalg.norm(pre[0] - post[0]) + np.linalg.norm(pre[1] - post[1])
        swap = np.linalg.norm(pre[0] - post[1]) + np.linalg.norm(pre[1] - post[0])
        return bool(keep - swap >= self.margin and swap <= 0.5 * keep)

"""Score a replay against a labels file: TP/FP/FN, precision, recall, F1, timing error per rule.

Matching, per rule and one to one: an event may match a label when it is of the label's kind
(tripwire → crossing, zone_intrusion → entry, ...), reports the label's direction (if the label
names one), and fired inside the label's window. Among all such pairs the assignment with the
most matches is taken, and among those the one with the smallest total |fired − at| (optimal,
Hungarian method); a label's track hint only breaks exact ties. Matched pairs are true
positives; unmatched events false positives; unmatched labels false negatives. Timing error is
|fired − at| over the true positives.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.table import Table
from scipy.optimize import linear_sum_assignment

from ingest.workbench.fence_events import FenceEvent
from ingest.workbench.labels import ExpectedEvent

_NO_MATCH = 1e9
_HINT_PENALTY = 1e-6


@dataclass
class RuleScore:
    rule: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    timing_errors: list[float] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def mean_timing_error(self) -> float | None:
        return float(np.mean(self.timing_errors)) if self.timing_errors else None

    @property
    def max_timing_error(self) -> float | None:
        return float(np.max(self.timing_errors)) if self.timing_errors else None

    def to_dict(self) -> dict:
        r = lambda v: None if v is None else round(v, 3)  # noqa: E731
        return {"rule": self.rule, "tp": self.tp, "fp": self.fp, "fn": self.fn,
                "precision": r(self.precision), "recall": r(self.recall), "f1": r(self.f1),
                "mean_timing_error_s": r(self.mean_timing_error), "max_timing_error_s": r(self.max_timing_error)}


@dataclass
class Scores:
    rules: dict[str, RuleScore]
    total: RuleScore
    matches: list[tuple[ExpectedEvent, FenceEvent]]
    false_positives: list[FenceEvent]
    false_negatives: list[ExpectedEvent]

    def to_dict(self) -> dict:
        return {
            "total": self.total.to_dict(),
            "rules": {k: v.to_dict() for k, v in sorted(self.rules.items())},
            "matches": [{"label": l.model_dump(exclude_none=True), "event": e.to_dict(),
                         "timing_error_s": round(abs(e.t - l.reference), 3)} for l, e in self.matches],
            "false_positives": [e.to_dict() for e in self.false_positives],
            "false_negatives": [l.model_dump(exclude_none=True) for l in self.false_negatives],
        }


def _compatible(label: ExpectedEvent, ev: FenceEvent) -> bool:
    return (ev.kind == label.kind
            and (label.direction is None or label.direction == ev.direction)
            and label.window[0] <= ev.t <= label.window[1])


def _match(labels: Sequence[ExpectedEvent], events: Sequence[FenceEvent]) -> list[tuple[int, int]]:
    if not labels or not events:
        return []
    cost = np.full((len(labels), len(events)), _NO_MATCH)
    for i, lab in enumerate(labels):
        for j, ev in enumerate(events):
            if _compatible(lab, ev):
                hint = _HINT_PENALTY if lab.track is not None and lab.track != ev.track_id else 0.0
                cost[i, j] = abs(ev.t - lab.reference) + hint
    # A forbidden pair costs more than all allowed pairs together, so the solver first maximises
    # the number of matches, then minimises the timing error.
    rows, cols = linear_sum_assignment(cost)
    return [(int(i), int(j)) for i, j in zip(rows, cols) if cost[i, j] < _NO_MATCH]


def score(labels: Sequence[ExpectedEvent], events: Sequence[FenceEvent]) -> Scores:
    rule_ids = sorted({l.rule for l in labels} | {e.rule_id for e in events})
    out = Scores({}, RuleScore("all"), [], [], [])
    for rid in rule_ids:
        labs = [l for l in labels if l.rule == rid]
        evs = [e for e in events if e.rule_id == rid]
        pairs = _match(labs, evs)
        rs = RuleScore(rid, tp=len(pairs), fp=len(evs) - len(pairs), fn=len(labs) - len(pairs))
        rs.timing_errors = [abs(evs[j].t - labs[i].reference) for i, j in pairs]
        out.rules[rid] = rs
        out.matches += [(labs[i], evs[j]) for i, j in pairs]
        used_l, used_e = {i for i, _ in pairs}, {j for _, j in pairs}
        out.false_negatives += [l for i, l in enumerate(labs) if i not in used_l]
        out.false_positives += [e for j, e in enumerate(evs) if j not in used_e]
        out.total.tp += rs.tp
        out.total.fp += rs.fp
        out.total.fn += rs.fn
        out.total.timing_errors += rs.timing_errors
    return out


def table(scores: Scores, title: str = "scores") -> Table:
    t = Table(title=title)
    for col in ("rule", "TP", "FP", "FN", "precision", "recall", "F1", "mean Δt (s)", "max Δt (s)"):
        t.add_column(col, justify="left" if col == "rule" else "right")
    fmt = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
    for rs in [*sorted(scores.rules.values(), key=lambda r: r.rule), scores.total]:
        t.add_row(rs.rule, str(rs.tp), str(rs.fp), str(rs.fn), f"{rs.precision:.3f}", f"{rs.recall:.3f}",
                  f"{rs.f1:.3f}", fmt(rs.mean_timing_error), fmt(rs.max_timing_error),
                  style="bold" if rs is scores.total else None)
    return t


def write_scores(scores: Scores, path: Path, **meta) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**meta, **scores.to_dict()}, indent=2) + "\n")
    return path

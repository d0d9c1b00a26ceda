"""`--compare OLD NEW`: which events appear or disappear between two versions of the rules.

Both rule sets run on the same recorded tracks (see tracklog), so every difference comes from
the rules. Two events are "the same" when they have the same rule id and track id and fired
within `tolerance_s` of each other; pairs are matched one to one, closest in time first. An
event of OLD without a partner has disappeared in NEW; one of NEW without a partner appeared.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from ingest.workbench.contact_sheet import media_clock
from ingest.workbench.fence_events import FenceEvent


@dataclass(frozen=True)
class Comparison:
    old_name: str
    new_name: str
    tolerance_s: float
    old: list[FenceEvent]
    new: list[FenceEvent]
    kept: list[tuple[FenceEvent, FenceEvent]]
    disappeared: list[FenceEvent]
    appeared: list[FenceEvent]

    def per_rule(self) -> dict[str, dict[str, int]]:
        rules = sorted({e.rule_id for e in self.old} | {e.rule_id for e in self.new})
        return {r: {"old": sum(e.rule_id == r for e in self.old), "new": sum(e.rule_id == r for e in self.new),
                    "appeared": sum(e.rule_id == r for e in self.appeared),
                    "disappeared": sum(e.rule_id == r for e in self.disappeared)} for r in rules}

    def to_dict(self) -> dict:
        return {
            "old": self.old_name, "new": self.new_name, "tolerance_s": self.tolerance_s,
            "old_events": len(self.old), "new_events": len(self.new), "unchanged": len(self.kept),
            "per_rule": self.per_rule(),
            "appeared": [e.to_dict() for e in self.appeared],
            "disappeared": [e.to_dict() for e in self.disappeared],
        }


def compare_events(old: Sequence[FenceEvent], new: Sequence[FenceEvent], *, tolerance_s: float = 1.0,
                   old_name: str = "old", new_name: str = "new") -> Comparison:
    pairs = sorted(
        (abs(a.t - b.t), i, j)
        for i, a in enumerate(old) for j, b in enumerate(new)
        if a.rule_id == b.rule_id and a.track_id == b.track_id and abs(a.t - b.t) <= tolerance_s
    )
    used_old: set[int] = set()
    used_new: set[int] = set()
    kept = []
    for _, i, j in pairs:
        if i not in used_old and j not in used_new:
            used_old.add(i)
            used_new.add(j)
            kept.append((old[i], new[j]))
    return Comparison(
        old_name, new_name, tolerance_s, list(old), list(new), kept,
        [e for i, e in enumerate(old) if i not in used_old],
        [e for j, e in enumerate(new) if j not in used_new],
    )


def changes(cmp: Comparison) -> list[tuple[str, FenceEvent]]:
    return sorted([("disappeared", e) for e in cmp.disappeared] + [("appeared", e) for e in cmp.appeared],
                  key=lambda c: (c[1].t, c[1].rule_id))


def table(cmp: Comparison) -> Table:
    t = Table(title=f"compare {cmp.old_name} → {cmp.new_name}: {len(cmp.old)} → {len(cmp.new)} events, "
                    f"{len(cmp.kept)} unchanged (±{cmp.tolerance_s:g} s)")
    for col in ("change", "rule", "time", "track", "direction"):
        t.add_column(col)
    for what, e in changes(cmp):
        style = "green" if what == "appeared" else "red"
        t.add_row(f"[{style}]{what}[/]", e.rule_id, media_clock(e.t), str(e.track_id), e.direction or "")
    return t


def markdown(cmp: Comparison) -> str:
    lines = [f"# Compare `{cmp.old_name}` → `{cmp.new_name}`", "",
             f"{len(cmp.old)} events before, {len(cmp.new)} after, {len(cmp.kept)} unchanged "
             f"(same rule and track, within ±{cmp.tolerance_s:g} s).", "",
             "| rule | old | new | appeared | disappeared |", "|---|---|---|---|---|"]
    lines += [f"| {r} | {c['old']} | {c['new']} | {c['appeared']} | {c['disappeared']} |" for r, c in cmp.per_rule().items()]
    lines += ["", "| change | rule | time | track | direction |", "|---|---|---|---|---|"]
    lines += [f"| {what} | {e.rule_id} | {media_clock(e.t)} ({e.t:.1f} s) | {e.track_id} | {e.direction or ''} |"
              for what, e in changes(cmp)]
    return "\n".join(lines) + "\n"


def write_comparison(cmp: Comparison, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.json").write_text(json.dumps(cmp.to_dict(), indent=2) + "\n")
    (out / "compare.md").write_text(markdown(cmp))
    return out / "compare.json", out / "compare.md"

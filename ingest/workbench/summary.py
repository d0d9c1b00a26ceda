"""`summary.md`: the per-rule summary of a replay for people (summary.json is for programs)."""

from __future__ import annotations

from collections.abc import Sequence

from ingest.workbench.contact_sheet import media_clock
from ingest.workbench.fence_events import FenceEvent


def summary_markdown(summary: dict, events: Sequence[FenceEvent], rule_kinds: dict[str, str]) -> str:
    """`summary` is what summary.json holds; `rule_kinds` maps every enabled rule id to its kind,
    so rules that never fired are listed too (a silent fence is worth noticing)."""
    lines = [f"# Replay of `{summary['video']}`", "",
             f"Camera `{summary['camera']}`, detector `{summary['detector']}`, {summary['frames']} frames "
             f"analysed in {summary['seconds']:.1f} s; {summary['events']} events.", "",
             "| rule | kind | events | first | last | tracks |", "|---|---|---|---|---|---|"]
    for rid in sorted(set(rule_kinds) | {e.rule_id for e in events}):
        evs = [e for e in events if e.rule_id == rid]
        kind = rule_kinds.get(rid, evs[0].rule_kind if evs else "")
        if evs:
            ts = [e.t for e in evs]
            first, last = media_clock(min(ts)), media_clock(max(ts))
            tracks = len({e.track_id for e in evs})
        else:
            first = last = "–"
            tracks = 0
        lines.append(f"| {rid} | {kind} | {len(evs)} | {first} | {last} | {tracks} |")
    if events:
        lines += ["", "## Events", "", "| time | rule | track | direction |", "|---|---|---|---|"]
        lines += [f"| {media_clock(e.t)} ({e.t:.1f} s) | {e.rule_id} | {e.track_id} | {e.direction or ''} |"
                  for e in sorted(events, key=lambda e: e.t)]
    return "\n".join(lines) + "\n"

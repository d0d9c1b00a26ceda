"""What a rule reload changed, so the worker can log it and the audit trail can say what moved.

A spec is identified by its `id`; it "changed" when any field differs (the whole spec is
compared, so a moved polygon, a new schedule or toggling `enabled` all count). A change that
kept the old `version` is listed in `unbumped`: every event names its rule version, so two
meanings under one version make alerts ambiguous, and the worker can warn about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rules.config import RuleBase


@dataclass(frozen=True)
class RuleChanges:
    """Rule ids added, removed and changed by a reload; `versions` maps a changed id to
    (old version, new version)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    versions: tuple[tuple[str, int, int], ...] = ()

    @property
    def unbumped(self) -> tuple[str, ...]:
        """Changed rules whose version stayed the same."""
        return tuple(rid for rid, old, new in self.versions if old == new)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def summary(self) -> str:
        """One log line, e.g. 'added [a]; removed [b]; changed [gate v1->v2]'."""
        if not self:
            return "no rule changes"
        parts = []
        if self.added:
            parts.append(f"added {list(self.added)}")
        if self.removed:
            parts.append(f"removed {list(self.removed)}")
        if self.changed:
            moves = ", ".join(f"{rid} v{old}->v{new}" for rid, old, new in self.versions)
            parts.append(f"changed [{moves}]")
        if self.unbumped:
            parts.append(f"version not bumped: {list(self.unbumped)}")
        return "; ".join(parts)


def diff_specs(old: Sequence[RuleBase], new: Sequence[RuleBase]) -> RuleChanges:
    """Compare two rule lists of one camera by id, in the new list's order."""
    before = {s.id: s for s in old}
    after = {s.id: s for s in new}
    changed = [s for rid, s in after.items() if rid in before and before[rid] != s]
    return RuleChanges(
        added=tuple(rid for rid in after if rid not in before),
        removed=tuple(rid for rid in before if rid not in after),
        changed=tuple(s.id for s in changed),
        versions=tuple((s.id, before[s.id].version, s.version) for s in changed),
    )

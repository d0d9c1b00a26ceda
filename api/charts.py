"""PNG charts for the console (matplotlib, headless Agg backend, imported only when asked)."""

from __future__ import annotations

import io
from typing import Any


def within_target_png(rows: list[dict[str, Any]], title: str) -> bytes:
    """Bars: share of slots on scene within the tier target, per key, one colour per tier."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = sorted({r["key"] for r in rows})
    tiers = sorted({r["tier"] for r in rows})
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(keys) * max(1, len(tiers))), 4), dpi=100)
    try:
        width = 0.8 / max(1, len(tiers))
        for i, tier in enumerate(tiers):
            vals = {r["key"]: r["within_tier_target"] for r in rows if r["tier"] == tier}
            xs = [k + i * width for k in range(len(keys))]
            ax.bar(xs, [vals.get(k, 0) for k in keys], width, label=f"tier {tier} (≤ {(60, 180, 300)[tier - 1]} s)")
        ax.set_xticks([k + width * (len(tiers) - 1) / 2 for k in range(len(keys))], keys, rotation=30, ha="right")
        ax.set_ylim(0, 1)
        ax.set_ylabel("share on scene in time")
        ax.set_title(title)
        if tiers:
            ax.legend(loc="lower right")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)

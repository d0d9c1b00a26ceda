"""Rule engine throughput: track-rule evaluations per second, ours vs supervision's zones.

    .venv/bin/python bench/rules_speed.py --frames 300 --tracks 200 --polygons 25 --lines 25

One scene for both: `tracks` people random-walking over a 1280x720 frame at 10 fps, random
simple polygons and random two-point lines. Ours runs them as `zone_intrusion` (1 s minimum
time inside, exit grace, cooldown) and `tripwire` (direction, hysteresis band, segment extent)
rules in one `RuleEngine`, so the time semantics are on. The reference runs supervision's
`PolygonZone.trigger` + `LineZone.trigger` (bottom-centre anchor) on the same detections.

Both run in this process, alternating every `chunk` frames, so load from other processes hits
both alike; each of `rounds` rounds starts fresh engines and the fastest round of each counts
(as timeit does). The ratio is the figure to read on a loaded machine; absolute numbers are
not. An evaluation is one (track, rule) pair in one frame.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # "per core": keep numpy on one thread

import gc  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

import numpy as np  # noqa: E402
import typer  # noqa: E402
from pydantic import TypeAdapter  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import track  # noqa: E402

from detectors.detections import Detections  # noqa: E402
from rules.config import RuleSpec  # noqa: E402
from rules.engine import RuleEngine  # noqa: E402

FRAME = (1280, 720)
FPS = 10.0
console = Console(stderr=True)


def random_polygon(rng: np.random.Generator) -> np.ndarray:
    """A simple (star-shaped, maybe concave) polygon of 4-8 points, normalised."""
    k = int(rng.integers(4, 9))
    # One vertex per sector: every angular gap is below pi, so the polygon cannot cross itself.
    angles = (np.arange(k) + rng.uniform(0, 0.8, k)) * 2 * np.pi / k
    radius = rng.uniform(0.05, 0.2) * rng.uniform(0.5, 1.0, k)
    centre = rng.uniform(0.25, 0.75, 2)  # with radius <= 0.2: inside the frame, no clipping
    pts = centre + np.stack([np.cos(angles) * radius, np.sin(angles) * radius], axis=1)
    return pts


def random_line(rng: np.random.Generator) -> np.ndarray:
    a = rng.uniform(0.1, 0.9, 2)
    b = np.clip(a + rng.uniform(-0.3, 0.3, 2), 0.0, 1.0)
    return np.stack([a, b])


def make_scene(n_frames: int, n_tracks: int, seed: int) -> list[tuple[float, Detections]]:
    rng = np.random.default_rng(seed)
    w, h = FRAME
    pos = rng.uniform([0, 40], [w, h], (n_tracks, 2))
    vel = rng.normal(0, 30, (n_tracks, 2))  # px/s
    ids = np.arange(1, n_tracks + 1)
    frames = []
    for k in range(n_frames):
        vel += rng.normal(0, 15, vel.shape)
        pos += vel / FPS
        for d, hi in ((0, w), (1, h)):  # bounce off the frame edges
            low, high = pos[:, d] < (40 if d else 0), pos[:, d] > hi
            vel[low | high, d] *= -1
            pos[:, d] = np.clip(pos[:, d], 40 if d else 0, hi)
        xyxy = np.stack([pos[:, 0] - 10, pos[:, 1] - 40, pos[:, 0] + 10, pos[:, 1]], axis=1)
        frames.append(
            (k / FPS, Detections(xyxy, np.full(n_tracks, 0.9), np.zeros(n_tracks), ids))
        )
    return frames


def make_specs(polygons, lines) -> list:
    raw = [
        {"id": f"zone-{i}", "kind": "zone_intrusion", "polygon": p.tolist(), "min_inside_s": 1.0}
        for i, p in enumerate(polygons)
    ] + [{"id": f"line-{i}", "kind": "tripwire", "line": ln.tolist()} for i, ln in enumerate(lines)]
    return TypeAdapter(list[RuleSpec]).validate_python(raw)


def make_reference(polygons, lines):
    import supervision as sv

    w, h = FRAME
    anchor = (sv.Position.BOTTOM_CENTER,)
    zones = [
        sv.PolygonZone((p * [w, h]).astype(np.int32), triggering_anchors=anchor)
        for p in polygons
    ]
    wires = [
        sv.LineZone(
            sv.Point(*(ln[0] * [w, h])), sv.Point(*(ln[1] * [w, h])), triggering_anchors=anchor
        )
        for ln in lines
    ]
    return zones, wires


def run_both(frames, specs, polygons, lines, chunk: int) -> dict[str, float | int]:
    """Time both engines on alternating chunks of frames, so load changes hit both alike.

    Chunks rather than single frames: alternating every frame would make each engine start
    with caches the other one just filled (supervision's zone masks are ~1 MB each).
    """
    engine = RuleEngine("bench", specs, timezone="UTC")
    zones, wires = make_reference(polygons, lines)
    sv_frames = [d.to_supervision() for _, d in frames]  # conversion is not part of the timing
    ours_s = ref_s = 0.0
    events = hits = 0
    gc.collect()
    gc.disable()  # a collection landing in one engine's slice would skew the ratio
    try:
        for start in track(
            range(0, len(frames), chunk), description="frame chunks (both engines)", console=console
        ):
            t0 = time.perf_counter()
            for t, dets in frames[start : start + chunk]:
                events += len(engine.update(dets, t, FRAME))
            t1 = time.perf_counter()
            for det in sv_frames[start : start + chunk]:
                for z in zones:
                    hits += int(z.trigger(det).sum())
                for wire in wires:
                    a, b = wire.trigger(det)
                    hits += int(a.sum() + b.sum())
            t2 = time.perf_counter()
            ours_s += t1 - t0
            ref_s += t2 - t1
    finally:
        gc.enable()
    return {"ours_s": ours_s, "ref_s": ref_s, "events": events, "hits": hits}


def main(
    frames: int = typer.Option(300, help="Frames to run (10 fps scene time)"),
    tracks: int = typer.Option(200, help="Tracks per frame"),
    polygons: int = typer.Option(25, help="Polygon rules per camera"),
    lines: int = typer.Option(25, help="Line rules per camera"),
    seed: int = typer.Option(7, help="Scene seed"),
    rounds: int = typer.Option(3, help="Whole-scene rounds; the fastest round of each counts"),
    chunk: int = typer.Option(25, help="Frames per engine before switching to the other"),
) -> None:
    rng = np.random.default_rng(seed)
    polys = [random_polygon(rng) for _ in range(polygons)]
    wires = [random_line(rng) for _ in range(lines)]
    scene = make_scene(frames, tracks, seed)
    specs = make_specs(polys, wires)
    evals = frames * tracks * (polygons + lines)
    # Fresh engines each round; the fastest round of each is the one least disturbed by other
    # processes (as timeit does). Every round's ratio is printed too, to show the spread.
    results = [run_both(scene, specs, polys, wires, chunk) for _ in range(rounds)]
    ours_s = min(r["ours_s"] for r in results)
    ref_s = min(r["ref_s"] for r in results)
    our_events, ref_hits = results[0]["events"], results[0]["hits"]
    ours_rate, ref_rate = evals / ours_s, evals / ref_s
    spread = ", ".join(f"{r['ref_s'] / r['ours_s']:.2f}x" for r in results)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"\n{tracks} tracks x {polygons} polygons + {lines} lines, {frames} frames; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; {stamp}\n")
    print("| engine | seconds | evaluations/s | ms/frame | output |")
    print("|---|---|---|---|---|")
    print(f"| lookout RuleEngine (zone_intrusion + tripwire, time semantics) | {ours_s:.2f} "
          f"| {ours_rate / 1e6:.2f} M | {1000 * ours_s / frames:.2f} | {our_events} events |")
    print(f"| supervision {__import__('supervision').__version__} PolygonZone + LineZone "
          f"| {ref_s:.2f} | {ref_rate / 1e6:.2f} M | {1000 * ref_s / frames:.2f} "
          f"| {ref_hits} zone hits + crossings |")
    print(f"\nratio (ours / supervision, evaluations per second, fastest rounds): "
          f"**{ours_rate / ref_rate:.2f}x**; per round: {spread}")


if __name__ == "__main__":
    typer.run(main)

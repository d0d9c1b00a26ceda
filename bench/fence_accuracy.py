"""Fence-event accuracy of the whole chain on PETS09-S2L1 (vtest.avi), scored like an engineer would.

    .venv/bin/python bench/fence_accuracy.py                 # analysis_fps 5 (camera) and 10
    .venv/bin/python bench/fence_accuracy.py --fps 10 --tracker match_iou=0.05 --out out/fa-iou05

1. Ground truth: the MOT15 boxes of vtest.avi become tracks (GT id = track id, frame N = media
   time (N-1)/10 s) and the example rules of configs/rules.yaml run on them with the same rule
   engine. Every event fired is a label (labels format of docs/workbench.md, window
   ±`--window` s around the GT firing time). The labels are written under OUT only: they are
   derived from test data and never go into the repository.
2. `lookout replay` (YOLOX-nano + ByteTrack, motion gate, everything as configured) runs at each
   analysis rate and is scored against the labels (ingest.workbench.scoring).
3. Each miss is explained. The GT person under an event's box (IoU ≥ 0.3) identifies who fired
   it: a false positive of a person for whom the same rule also fired under another track id is
   a re-trigger after an id switch (or a duplicate track); one in the window of a label with the
   other direction is line flicker; otherwise nobody is under the box (detector noise or an
   unannotated person) or the GT person never did this in the ground truth. A false negative is "late/early" when the rule fired for it
   outside the window, "wrong direction", or "not fired".
4. Scored twice. `blind` is the workbench scorer as an engineer's labels file gets it: it does
   not know who is who, so one person's missed entry and another person's extra entry a second
   later pair up as one true positive with a 1.3 s "timing error" (what the first measurements
   reported as the worst delay). `identity` lets a label match only an event whose box covers
   the label's GT person (IoU >= 0.3), so such a pair counts as what it is, FN + FP, and Δt is
   the chain's real lateness. Both are printed and saved; the target is read on `identity`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import iou  # noqa: E402  (bench/ is scripts, not a package)

from alerts.model import Alert  # noqa: E402
from detectors.detections import Detections  # noqa: E402
from detectors.labels import class_id  # noqa: E402
from ingest.replay import replay  # noqa: E402
from ingest.siteconfig import load_worker_config  # noqa: E402
from ingest.workbench.fence_events import FenceEvent  # noqa: E402
from ingest.workbench.labels import load_labels  # noqa: E402
from ingest.workbench.scoring import RuleScore, Scores, score, table  # noqa: E402
from ingest.workbench.tracklog import TrackLog  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
GT_FPS = 10.0  # the avi's rate; GT frame N is the N-th read() (SOURCE.md)
FRAME_SIZE = (768, 576)
console = Console(stderr=True)


def shared_dir() -> Path:
    env = os.environ.get("LOOKOUT_SHARED_DIR")
    return Path(env) if env else ROOT.parent / "shared"


def gt_frames(gt_path: Path, with_ignored: bool = True) -> dict[int, Detections]:
    """frame (1-based) → GT boxes as tracks. `conf=0` rows (distant people the MOT benchmark
    ignores) are kept by default: they are real people a fence should see."""
    rows = np.loadtxt(gt_path, delimiter=",", ndmin=2)
    if not with_ignored:
        rows = rows[rows[:, 6] > 0]
    person = class_id("person")
    out = {}
    for f in range(1, int(rows[:, 0].max()) + 1):
        r = rows[rows[:, 0] == f]
        xyxy = np.stack([r[:, 2], r[:, 3], r[:, 2] + r[:, 4], r[:, 3] + r[:, 5]], axis=1)
        out[f] = Detections(xyxy, np.ones(len(r)), np.full(len(r), person), r[:, 1].astype(int))
    return out


def derive_labels(cfg, camera_id: str, frames: dict[int, Detections], window: float, path: Path) -> list[FenceEvent]:
    log = TrackLog(camera_id)
    for f, dets in sorted(frames.items()):
        t = (f - 1) / GT_FPS
        log.add(t, t, FRAME_SIZE, dets)
    events = log.run_rules(cfg.rules_for(camera_id))
    doc = {"video": str(VTEST), "camera": camera_id,
           "source": "derived by bench/fence_accuracy.py from MOT15 gt.txt (test data; do not ship)",
           "events": []}
    for e in events:
        item = {"rule": e.rule_id, "kind": e.kind, "window": [round(max(0.0, e.t - window), 3), round(e.t + window, 3)],
                "at": round(e.t, 3), "note": f"GT track {e.track_id}"}
        if e.direction:
            item["direction"] = e.direction
        doc["events"].append(item)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        YAML().dump(doc, f)
    return events


def gt_id_of(alert: Alert, frames: dict[int, Detections]) -> int | None:
    """The GT person under the alert's box (IoU ≥ 0.3 in the frame it fired), if any."""
    if not alert.objects:
        return None
    gt = frames.get(int(round((alert.media_time or 0) * GT_FPS)) + 1)
    if gt is None or not len(gt):
        return None
    m = iou(np.array([alert.objects[0].bbox]), gt.xyxy)[0]
    return int(gt.tracker_id[int(m.argmax())]) if m.max() >= 0.3 else None


def identity_score(labels, alerts: list[Alert], frames: dict[int, Detections]) -> Scores:
    """Score with identities (item 4 of the module docstring): labels and events are split by GT
    person (a label's note names it, an event's box finds it), each person scored on their own,
    and the counts summed per rule. An event with nobody under its box can only be a FP."""
    def tag(rule: str, person) -> str:
        return f"{rule}@{person}"

    labs = [l.model_copy(update={"rule": tag(l.rule, l.note.removeprefix("GT track "))}) for l in labels]
    evs = [dataclasses.replace(e, rule_id=tag(e.rule_id, gt_id_of(a, frames)))
           for a, e in ((a, FenceEvent.from_alert(a)) for a in alerts)]
    by_person = score(labs, evs)
    out = Scores({}, RuleScore("all"), [], [], [])
    for key, rs in by_person.rules.items():
        rule = key.rsplit("@", 1)[0]
        agg = out.rules.setdefault(rule, RuleScore(rule))
        for target in (agg, out.total):
            target.tp += rs.tp
            target.fp += rs.fp
            target.fn += rs.fn
            target.timing_errors += rs.timing_errors
    untag_l = lambda l: l.model_copy(update={"rule": l.rule.rsplit("@", 1)[0]})  # noqa: E731
    untag_e = lambda e: dataclasses.replace(e, rule_id=e.rule_id.rsplit("@", 1)[0])  # noqa: E731
    out.matches = [(untag_l(l), untag_e(e)) for l, e in by_person.matches]
    out.false_positives = [untag_e(e) for e in by_person.false_positives]
    out.false_negatives = [untag_l(l) for l in by_person.false_negatives]
    return out


def blind_pairings_of_two_people(scores, alerts: list[Alert], frames) -> list[str]:
    """Matches of the blind scorer whose label and event are about different GT people."""
    person = {(a.rule.id, round(a.media_time or 0, 3), a.objects[0].track_id): gt_id_of(a, frames)
              for a in alerts if a.objects}
    out = []
    for lab, e in scores.matches:
        p = person.get((e.rule_id, round(e.t, 3), e.track_id))
        if lab.note != f"GT track {p}":
            out.append(f"label {lab.rule} at={lab.reference:.1f} ({lab.note}) paired with track "
                       f"{e.track_id} at t={e.t:.1f} (GT person {p}), Δt {e.t - lab.reference:+.1f} s")
    return out


def diagnose(scores, alerts: list[Alert], frames, window: float) -> tuple[Counter, list[str]]:
    """Why each miss happened (see the module docstring); counts and one line per miss."""
    key = lambda rule, t, track: (rule, round(t, 3), track)  # noqa: E731
    person = {key(a.rule.id, a.media_time or 0, a.objects[0].track_id if a.objects else -1): gt_id_of(a, frames)
              for a in alerts}
    why: Counter = Counter()
    details: list[str] = []
    for e in scores.false_positives:
        p = person.get(key(e.rule_id, e.t, e.track_id))
        # Scoring is blind to who fired: if this person's own label went to another person's
        # event close in time, that other event is the real false positive.
        for lab, e2 in scores.matches:
            q = person.get(key(e2.rule_id, e2.t, e2.track_id))
            if lab.rule == e.rule_id and p is not None and lab.note == f"GT track {p}" and q != p:
                e, p = e2, q
                break
        twins = [k for k, q in person.items() if q == p and p is not None and k[0] == e.rule_id and k[2] != e.track_id]
        flipped = [l for l, _ in scores.matches] + list(scores.false_negatives)
        flipped = [l for l in flipped if l.rule == e.rule_id and l.direction and l.direction != e.direction
                   and l.window[0] <= e.t <= l.window[1]]
        if twins:
            cause = "same GT person fired again under another track id (id switch / duplicate track)"
        elif flipped:
            cause = "opposite direction (line flicker)"
        elif p is None:
            cause = "no GT person under the box"
        else:
            cause = "GT person never did this in the ground truth"
        why[f"FP {e.rule_id}: {cause}"] += 1
        details.append(f"FP {e.rule_id} t={e.t:.1f} track {e.track_id} {e.direction or ''} GT person {p}: {cause}")
    for lab in scores.false_negatives:
        same = [e for e in scores.false_positives if e.rule_id == lab.rule]
        if any(abs(e.t - lab.reference) <= 3 * window and (lab.direction is None or e.direction == lab.direction)
               for e in same):
            cause = f"fired outside the ±{window:g} s window"
        elif any(lab.window[0] <= e.t <= lab.window[1] for e in same):
            cause = "wrong direction"
        else:
            cause = "not fired"
        why[f"FN {lab.rule}: {cause}"] += 1
        details.append(f"FN {lab.rule} at={lab.reference:.1f} {lab.direction or ''} {lab.note}: {cause}")
    return why, details


def main(
    fps: list[float] = typer.Option([0, 10], help="Analysis rates to try (0 = the camera's analysis_fps)"),
    tracker: list[str] = typer.Option([], help="Override cameras.yaml tracker settings, e.g. --tracker lost_track_s=3"),
    detector: list[str] = typer.Option([], help="Override detector settings, e.g. --detector min_score=0.5"),
    motion: list[str] = typer.Option([], help="Override motion-gate settings, e.g. --motion enabled=false"),
    window: float = typer.Option(2.0, help="Label window: ± seconds around the GT firing time"),
    out: Path = typer.Option(ROOT / "out" / "fence_accuracy", help="Output folder (labels, replays, results)"),
    config_dir: Path = typer.Option(ROOT / "configs", "--config"),
) -> None:
    gt_path = shared_dir() / "data" / "pets09-s2l1" / "gt.txt"
    if not gt_path.exists() or not VTEST.exists():
        console.print(f"[red]needs {gt_path} and {VTEST}[/]")
        raise typer.Exit(2)
    cfg = load_worker_config(config_dir)
    cams = cfg.cameras
    # Tuning goes through the same typed config models as cameras.yaml, so a value that helps
    # here can be copied into the file as is (and a bad one is refused the same way).
    for section, items in (("tracker", tracker), ("detector", detector), ("motion", motion)):
        if items:
            current = getattr(cams, section)
            changed = type(current).model_validate(current.model_dump() | dict(i.split("=", 1) for i in items))
            cams = cams.model_copy(update={section: changed})
    cfg = dataclasses.replace(cfg, cameras=cams)
    camera = cams.cameras[0]
    frames = gt_frames(gt_path)
    labels_path = out / "labels.yaml"
    gt_events = derive_labels(cfg, camera.id, frames, window, labels_path)
    labels = load_labels(labels_path).events
    console.print(f"{len(labels)} GT fence events → {labels_path}: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(Counter(e.rule_id for e in gt_events).items())))
    results = []
    for rate in fps:
        rate = rate or camera.analysis_fps
        run_dir = out / f"replay-{rate:g}fps"
        res = replay(VTEST, cfg, run_dir, camera_id=camera.id, analysis_fps=rate, progress=False)
        alerts = [Alert.model_validate_json(line) for line in res.events_path.read_text().splitlines() if line]
        sc = score(labels, [FenceEvent.from_alert(a) for a in alerts])
        why, details = diagnose(sc, alerts, frames, window)
        ident = identity_score(labels, alerts, frames)
        title = f"analysis_fps {rate:g}: {res.frames} frames in {res.seconds:.1f} s"
        Console().print(table(sc, title=f"{title}, blind"))
        for k, v in sorted(why.items()):
            console.print(f"  {v:3d}  {k}")
        Console().print(table(ident, title=f"{title}, identity-checked"))
        crossed = blind_pairings_of_two_people(sc, alerts, frames)
        for line in crossed:
            console.print(f"  blind pairing of two people: {line}")
        results.append({"analysis_fps": rate, "frames": res.frames, "seconds": round(res.seconds, 1),
                        "overrides": {"tracker": tracker, "detector": detector, "motion": motion},
                        "scores": sc.to_dict()["rules"] | {"all": sc.total.to_dict()},
                        "scores_identity": {k: v.to_dict() for k, v in sorted(ident.rules.items())}
                        | {"all": ident.total.to_dict()},
                        "blind_pairings_of_two_people": crossed, "misses": dict(why), "miss_details": details})
    (out / "results.json").write_text(json.dumps({"labels": len(labels), "window_s": window, "runs": results}, indent=2))
    console.print(f"results: {out / 'results.json'}")
    for r in results:
        for scoring, key in (("blind", "scores"), ("identity", "scores_identity")):
            for rule, s in r[key].items():
                print(f"| {r['analysis_fps']:g} | {scoring} | {rule} | "
                      f"{s['tp']} | {s['fp']} | {s['fn']} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | "
                      f"{s['mean_timing_error_s']} | {s['max_timing_error_s']} |")


if __name__ == "__main__":
    typer.run(main)

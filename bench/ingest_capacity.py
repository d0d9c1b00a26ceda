"""Ingest capacity: how many 720p H.264 25 fps streams this machine decodes, and how many of them
the worker keeps live at a 5 fps analysis rate with the motion gate on.

    .venv/bin/python bench/ingest_capacity.py                 # short run (~1.5-2 minutes)
    .venv/bin/python bench/ingest_capacity.py --minutes 10    # plus a 10-minute hold for memory
    .venv/bin/python bench/ingest_capacity.py --budget 240    # a longer ramp (more steps)

(a) decode-only: one OpenCV decoding process per core reads the clip in a loop as fast as it can;
    capacity = total frames/s ÷ 25. Run twice, with FFmpeg's default decoding threads and with one
    thread per stream (what Lookout's decoders use); (a) is the better of the two.
(b) Lookout: `WorkerSupervisor` with N file cameras (real-time paced at 25 fps, looping,
    analysis_fps 5) and per-camera `CameraPipeline`s (motion gate + the marker detector, no
    rules) in this process, plus the console's newest-frame JPEGs, as `lookout worker` runs them
    (frames as shared-memory views, `copy=False`; `--copy` for the old per-frame copy). N ramps
    up from about half of (a); a step passes when every camera is live, analysed at ≥ 90 % of
    5 fps over the window, and its frames are analysed within 1 s of their due time (p95): a
    realtime file that falls behind still delivers 5 fps of media time, only later and later.
Memory is PSS (shared pages split between processes) of this process plus every decoder.
Timings depend on the machine and on what else runs on it: compare numbers from one machine.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import resource
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import typer

from detectors.config import DetectorConfig, MotionConfig, TrackerConfig
from detectors.registry import create_detector
from ingest.config import CameraConfig
from ingest.generated import write_generated_video
from ingest.latest_frames import LatestFrames
from ingest.pipeline import CameraPipeline
from ingest.supervisor import WorkerSupervisor

STREAM_FPS = 25
ANALYSIS_FPS = 5.0
LIVE_SHARE = 0.9
MAX_LATENCY_S = 1.0  # p95 of (analysed at) - (frame due), for a step to pass


def make_clip(path: Path, seconds: int = 20) -> Path:
    """720p H.264 at 25 fps, ~2 Mbit/s, GOP 50: people walking across a static background."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = write_generated_video(path.with_name("raw720.mp4"), seconds, STREAM_FPS, 1280, 720)
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(raw), "-c:v", "libx264", "-preset", "medium",
                    "-b:v", "2M", "-maxrate", "2M", "-bufsize", "4M", "-g", "50", "-pix_fmt", "yuv420p",
                    "-r", str(STREAM_FPS), str(path)], check=True)
    return path


def _decode_loop(clip: str, seconds: float, threads: int, out: mp.Queue) -> None:
    cv2.setNumThreads(1)
    params = [cv2.CAP_PROP_N_THREADS, threads] if threads else []
    cap = cv2.VideoCapture(clip, cv2.CAP_FFMPEG, params)
    frames, end = 0, time.monotonic() + seconds
    cpu0 = _own_cpu_s()
    while time.monotonic() < end:
        ok, _ = cap.read()
        if not ok:
            cap.release()
            cap = cv2.VideoCapture(clip, cv2.CAP_FFMPEG, params)
            continue
        frames += 1
    out.put((frames, _own_cpu_s() - cpu0))


def decode_capacity(clip: Path, procs: int, seconds: float, threads: int = 0) -> dict:
    """`threads` FFmpeg decoding threads per process (0 = FFmpeg's default, one per core)."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    ps = [ctx.Process(target=_decode_loop, args=(str(clip), seconds, threads, q)) for _ in range(procs)]
    for p in ps:
        p.start()
    got = [q.get(timeout=seconds + 120) for _ in ps]
    for p in ps:
        p.join()
    frames = [f for f, _ in got]
    cpu_ms = 1000 * sum(c for _, c in got) / max(1, sum(frames))
    fps = sum(frames) / seconds
    return {"processes": procs, "threads": threads or "default", "seconds": seconds, "frames_per_s": round(fps, 1),
            "per_process_fps": [round(f / seconds, 1) for f in frames], "streams": round(fps / STREAM_FPS, 2),
            "cpu_ms_per_frame": round(cpu_ms, 3), "cpu_ms_per_stream_s": round(cpu_ms * STREAM_FPS, 1)}


def _own_cpu_s() -> float:
    """CPU seconds of this process, all threads (FFmpeg decodes on its own threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def proc_cpu_s(pid: int | None) -> float:
    """CPU seconds used so far by process `pid` (0 when it is gone)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def pss_kib(pid: int | None) -> int:
    if pid is None:
        return 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Step:
    streams: int
    live: bool
    min_fps: float
    mean_fps: float
    dropped: int
    not_live: int
    pss_mib: float
    pss_per_stream_mib: float
    startup_s: float
    latency_p95_s: float = 0.0
    # CPU (decoders + this process) per stream-second: 5 frames made by a decoder (from 25 decoded)
    # and 5 analysed here. It depends far less on what else the machine runs than the live test.
    cpu_ms_per_stream_s: float = 0.0
    samples: list = field(default_factory=list)


def run_worker(clip: Path, n: int, measure_s: float, sample_every_s: float = 0.0, copy: bool = False,
               frames_dir: Path = Path("/tmp/lookout-bench/frames")) -> Step:
    cams = [CameraConfig(id=f"cam{i:03d}", url=str(clip), loop=True, realtime=True, analysis_fps=ANALYSIS_FPS)
            for i in range(n)]
    detector = create_detector(DetectorConfig(kind="fake"))
    pipes = {c.id: CameraPipeline(c, site_id="bench", detector=detector, motion=MotionConfig(enabled=True),
                                  tracker=TrackerConfig(), rules=[]) for c in cams}
    counts = dict.fromkeys(pipes, 0)
    latest = LatestFrames(frames_dir)
    samples, latency = [], []

    def analyse(f) -> None:  # what `lookout worker` does per frame (no rules, no sensors)
        latest.offer(f.camera_id, f.image, f.t)
        pipes[f.camera_id].process(f)

    with WorkerSupervisor(cams) as sup:
        t_start = time.monotonic()
        # Start-up: spawning N decoders costs seconds of CPU each on a small machine.
        while time.monotonic() - t_start < 30 + 2 * n:
            for f in sup.frames(timeout=0.2, max_s=0.5, copy=copy):
                analyse(f)
            if all(h.state == "live" for h in sup.health().values()):
                break
        startup = time.monotonic() - t_start
        dropped0 = sum(h.dropped for h in sup.health().values())
        pids = [sup.pid(c.id) for c in cams]
        main_cpu0, dec_cpu0 = _own_cpu_s(), sum(proc_cpu_s(p) for p in pids)
        made0 = sum(h.frames + h.dropped for h in sup.health().values())
        t0 = time.monotonic()
        next_sample = t0
        while (now := time.monotonic()) - t0 < measure_s:
            for f in sup.frames(timeout=0.2, max_s=0.5, copy=copy):
                analyse(f)
                counts[f.camera_id] += 1
                latency.append(time.time() - f.t)  # realtime files: f.t is when the frame was due
            if sample_every_s and now >= next_sample:
                next_sample = now + sample_every_s
                total = pss_kib(os.getpid()) + sum(pss_kib(sup.pid(c.id)) for c in cams)
                samples.append((round(now - t0, 1), round(total / 1024, 1)))
        elapsed = time.monotonic() - t0
        main_cpu, dec_cpu = _own_cpu_s() - main_cpu0, sum(proc_cpu_s(p) for p in pids) - dec_cpu0
        health = sup.health()
        # Decoders work for every frame they make (analysed or dropped), this process for every
        # frame it analyses; one stream-second is 5 of each.
        made = sum(h.frames + h.dropped for h in health.values()) - made0
        analysed = sum(counts.values())
        cpu_ms = 1000 * ANALYSIS_FPS * (dec_cpu / max(1, made) + main_cpu / max(1, analysed))
        pss = pss_kib(os.getpid()) + sum(pss_kib(sup.pid(c.id)) for c in cams)
    rates = [counts[c.id] / elapsed for c in cams]
    not_live = sum(h.state != "live" for h in health.values())
    p95 = float(np.percentile(latency, 95)) if latency else float("inf")
    ok = not_live == 0 and min(rates) >= LIVE_SHARE * ANALYSIS_FPS and p95 <= MAX_LATENCY_S
    return Step(n, ok, round(min(rates), 2), round(sum(rates) / n, 2),
                sum(h.dropped for h in health.values()) - dropped0, not_live,
                round(pss / 1024, 1), round(pss / 1024 / n, 1), round(startup, 1), round(p95, 2),
                round(cpu_ms, 1), samples)


def main(
    seconds: float = typer.Option(10, help="Decode-only run and each worker step measure this long"),
    budget: float = typer.Option(60, help="Stop ramping the worker after this many seconds (a step "
                                 "also waits for its decoders to start)"),
    minutes: float = typer.Option(0, help="Then hold the largest live count this many minutes (memory)"),
    hold_streams: int = typer.Option(0, help="Hold this many streams instead of the largest live count "
                                     "(e.g. with --budget 0 on a busy machine, for the memory trend alone)"),
    procs: int = typer.Option(0, help="Decoding processes for (a) (0 = CPU cores)"),
    clip_dir: Path = typer.Option(Path("/tmp/lookout-bench"), help="Where the 720p clip is made/kept"),
    json_out: Path = typer.Option(None, help="Write the results as JSON here"),
    copy: bool = typer.Option(False, help="(b) copies every frame out of shared memory (the worker before "
                              "2026-11-23) instead of analysing the view"),
) -> None:
    clip = make_clip(clip_dir / "clip720p25.mp4")
    cores = os.cpu_count() or 1
    load = os.getloadavg()
    tries = [decode_capacity(clip, procs or cores, seconds, threads) for threads in (0, 1)]
    for t in tries:
        print(f"(a) decode-only, {t['threads']} decoding thread(s): {t['frames_per_s']} frames/s on "
              f"{t['processes']} process(es) = {t['streams']} streams of 25 fps")
    a = max(tries, key=lambda t: t["streams"])
    steps: list[Step] = []
    n = max(1, int(a["streams"] * 0.5))
    stride = max(1, round(a["streams"] * 0.1))
    deadline = time.monotonic() + budget
    best: Step | None = None
    while time.monotonic() < deadline:
        step = run_worker(clip, n, seconds, copy=copy)
        steps.append(step)
        print(f"(b) {n} streams: live={step.live} min {step.min_fps} / mean {step.mean_fps} fps analysed, "
              f"latency p95 {step.latency_p95_s} s, CPU {step.cpu_ms_per_stream_s} ms/stream-s, "
              f"not live {step.not_live}, dropped {step.dropped}, "
              f"PSS {step.pss_mib} MiB ({step.pss_per_stream_mib}/stream)")
        if step.live:
            best = step
            n += stride
        elif stride > 1:  # overshot: go back and climb in single streams
            n, stride = (best.streams + 1 if best else max(1, n - stride)), 1
        else:
            break
        if best is None and n <= 1 and not step.live:
            break
    hold = None
    held = hold_streams or (best.streams if best else 0)
    if minutes and held:
        hold = run_worker(clip, held, minutes * 60, sample_every_s=30, copy=copy)
        first, last = hold.samples[1][1] if len(hold.samples) > 1 else None, hold.pss_mib
        print(f"hold {held} streams for {minutes} min: live={hold.live} min {hold.min_fps} fps, "
              f"PSS {first} → {last} MiB")
    b = best.streams if best else 0
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cores": cores, "load_avg_at_start": load,
        "opencv": cv2.__version__, "clip": "1280x720 H.264 25 fps ~2 Mbit/s GOP 50", "decode_only": a,
        "decode_only_tries": tries, "copy": copy, "load_avg_at_end": os.getloadavg(),
        "worker_steps": [asdict(s) for s in steps], "worker_streams": b,
        "ratio": round(b / a["streams"], 2) if a["streams"] else None, "hold": asdict(hold) if hold else None,
    }
    print(f"ratio (b)/(a) = {b} / {a['streams']} = {result['ratio']}")
    # The same ratio from CPU time: what (a) spends per stream-second over what (b) spends.
    cpu_b = [s.cpu_ms_per_stream_s for s in steps if s.cpu_ms_per_stream_s > 0]
    a_cpu = min(t["cpu_ms_per_stream_s"] for t in tries)
    if cpu_b:
        result["cpu_ratio"] = round(a_cpu / (sum(cpu_b) / len(cpu_b)), 2)
        print(f"CPU ratio = (a) {a_cpu} / (b) {round(sum(cpu_b) / len(cpu_b), 1)} ms per stream-second = "
              f"{result['cpu_ratio']} (load-independent estimate of the ratio on an idle machine)")
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    typer.run(main)

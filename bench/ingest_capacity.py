"""Ingest capacity: how many 720p H.264 25 fps streams this machine decodes, and how many of them
the worker keeps live at a 5 fps analysis rate with the motion gate on.

    .venv/bin/python bench/ingest_capacity.py                 # both clips, both variants (~10 min)
    .venv/bin/python bench/ingest_capacity.py --clips x264 --variants ingest --budget 60   # quick
    .venv/bin/python bench/ingest_capacity.py --minutes 10    # plus a 10-minute hold for memory

Two streams (`--clips`): `x264` = x264's defaults (B-frames, like a file encoded with ffmpeg and
the issue's scale figure) and `ipp` = I/P frames only (what most IP cameras send).
(a) decode-only: one process per core decodes the clip in a loop as fast as it can, four ways:
    OpenCV `read()` (decode + BGR conversion of every frame, the issue's scale figure) with
    FFmpeg's default threads and with one, OpenCV `grab()` (decode only) and PyAV (decode only).
    (a) is the best of the four; the CPU ratio uses the cheapest per frame.
(b) `WorkerSupervisor` with N file cameras (real-time paced at 25 fps, looping, analysis_fps 5,
    the default decoder: PyAV, skipping the non-reference frames nobody analyses) and per-camera
    `CameraPipeline`s in this process, with the console's newest-frame JPEGs, one OpenCV thread
    (as `lookout worker` sets it), frames as shared-memory views. `--variants`:
    - `ingest`: motion gate on, no model (the issue's (b): what the worker adds to decoding;
      a model's cost is bench/speed.py's, and a GPU's in production);
    - `model`: plus the marker detector as a stand-in model and the ByteTrack tracker.
    N ramps up from about half of (a); a step passes when every camera is live, analysed at
    >= 90 % of 5 fps over the window, and its frames are analysed within 1 s of their due time
    (p95): a realtime file that falls behind still delivers 5 fps of media time, only later.
    `--compare-streams N` also runs N streams with each decoder (OpenCV, PyAV) for their CPU.
CPU per stream-second = decoder CPU per frame made + this process's CPU per frame analysed, times
5; the CPU ratio (a)/(b) of it moves far less with other load than the wall-clock ratio.
Memory is PSS (shared pages split between processes) of this process plus every decoder.
Timings depend on the machine and on what else runs on it: compare numbers from one run.
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
from detectors.detections import Detections
from detectors.registry import create_detector
from ingest.config import CameraConfig
from ingest.generated import write_generated_video
from ingest.latest_frames import LatestFrames
from ingest.pipeline import CameraPipeline
from ingest.settings import WorkerSettings, apply_opencv_threads
from ingest.supervisor import WorkerSupervisor

STREAM_FPS = 25
ANALYSIS_FPS = 5.0
LIVE_SHARE = 0.9
MAX_LATENCY_S = 1.0  # p95 of (analysed at) - (frame due), for a step to pass


# The two kinds of 720p H.264 stream: x264's defaults (2-3 B-frames between P-frames, as a file
# encoded with ffmpeg has, and some cameras send) and I/P only (what most IP cameras send).
CLIPS = {"x264": ("clip720p25.mp4", []), "ipp": ("clip720p25_ipp.mp4", ["-bf", "0"])}


def make_clip(path: Path, seconds: int = 20, extra: list[str] | None = None) -> Path:
    """720p H.264 at 25 fps, ~2 Mbit/s, GOP 50: people walking across a static background."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = write_generated_video(path.with_name("raw720.mp4"), seconds, STREAM_FPS, 1280, 720)
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(raw), "-c:v", "libx264", "-preset", "medium",
                    *(extra or []), "-b:v", "2M", "-maxrate", "2M", "-bufsize", "4M", "-g", "50",
                    "-pix_fmt", "yuv420p", "-r", str(STREAM_FPS), str(path)], check=True)
    return path


class NoModel:
    """(b) without a model: the gate still decides per frame, nothing is detected. The model's
    own cost is bench/speed.py's subject (and a GPU's, in production)."""

    name = "none"

    def detect(self, image: np.ndarray) -> Detections:
        return Detections.empty()


def _pyav_frames(clip: str, threads: int):
    import av

    with av.open(clip) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = threads
        yield from container.decode(stream)


def _decode_loop(clip: str, seconds: float, threads: int, how: str, out: mp.Queue) -> None:
    """Decode `clip` over and over for `seconds`: `read` = OpenCV decode + BGR conversion of
    every frame (the issue's scale figure), `grab` = OpenCV decode only, `pyav` = FFmpeg decode
    only through PyAV."""
    cv2.setNumThreads(1)
    params = [cv2.CAP_PROP_N_THREADS, threads] if threads else []
    frames, end = 0, time.monotonic() + seconds
    cpu0 = _own_cpu_s()
    while time.monotonic() < end:
        if how == "pyav":
            for _ in _pyav_frames(clip, threads):
                frames += 1
                if time.monotonic() >= end:
                    break
            continue
        cap = cv2.VideoCapture(clip, cv2.CAP_FFMPEG, params)
        while time.monotonic() < end and (cap.grab() if how == "grab" else cap.read()[0]):
            frames += 1
        cap.release()
    out.put((frames, _own_cpu_s() - cpu0))


def decode_capacity(clip: Path, procs: int, seconds: float, threads: int = 0, how: str = "read") -> dict:
    """`threads` FFmpeg decoding threads per process (0 = FFmpeg's default, one per core)."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    ps = [ctx.Process(target=_decode_loop, args=(str(clip), seconds, threads, how, q)) for _ in range(procs)]
    for p in ps:
        p.start()
    got = [q.get(timeout=seconds + 120) for _ in ps]
    for p in ps:
        p.join()
    frames = [f for f, _ in got]
    cpu_ms = 1000 * sum(c for _, c in got) / max(1, sum(frames))
    fps = sum(frames) / seconds
    return {"how": how, "processes": procs, "threads": threads or "default", "seconds": seconds,
            "frames_per_s": round(fps, 1),
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
    decoders_ms_per_stream_s: float = 0.0  # the part spent in the decoder processes
    main_ms_per_stream_s: float = 0.0  # the part spent in this process (hand-off, gate, ...)
    samples: list = field(default_factory=list)


def run_worker(clip: Path, n: int, measure_s: float, sample_every_s: float = 0.0, copy: bool = False,
               frames_dir: Path = Path("/tmp/lookout-bench/frames"), model: bool = True,
               decoder: str = "auto") -> Step:
    cams = [CameraConfig(id=f"cam{i:03d}", url=str(clip), loop=True, realtime=True, analysis_fps=ANALYSIS_FPS,
                         decoder=decoder) for i in range(n)]
    detector = create_detector(DetectorConfig(kind="fake")) if model else NoModel()
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
        dec_ms, main_ms = 1000 * ANALYSIS_FPS * dec_cpu / max(1, made), 1000 * ANALYSIS_FPS * main_cpu / max(1, analysed)
        cpu_ms = dec_ms + main_ms
        pss = pss_kib(os.getpid()) + sum(pss_kib(sup.pid(c.id)) for c in cams)
    rates = [counts[c.id] / elapsed for c in cams]
    not_live = sum(h.state != "live" for h in health.values())
    p95 = float(np.percentile(latency, 95)) if latency else float("inf")
    ok = not_live == 0 and min(rates) >= LIVE_SHARE * ANALYSIS_FPS and p95 <= MAX_LATENCY_S
    return Step(n, ok, round(min(rates), 2), round(sum(rates) / n, 2),
                sum(h.dropped for h in health.values()) - dropped0, not_live,
                round(pss / 1024, 1), round(pss / 1024 / n, 1), round(startup, 1), round(p95, 2),
                round(cpu_ms, 1), round(dec_ms, 1), round(main_ms, 1), samples)


DECODE_TRIES = ((0, "read"), (1, "read"), (1, "grab"), (1, "pyav"))  # (FFmpeg threads, how)


def decode_only(clip: Path, procs: int, seconds: float) -> tuple[list[dict], dict]:
    """(a): every way of decoding the clip as fast as possible; the best one is (a)."""
    tries = []
    for threads, how in DECODE_TRIES:
        t = decode_capacity(clip, procs, seconds, threads, how)
        tries.append(t)
        print(f"(a) {how}, {t['threads']} decoding thread(s): {t['frames_per_s']} frames/s on {t['processes']} "
              f"process(es) = {t['streams']} streams of 25 fps, {t['cpu_ms_per_stream_s']} ms CPU per stream-s")
    return tries, max(tries, key=lambda t: t["streams"])


def ramp(clip: Path, a_streams: float, seconds: float, budget: float, copy: bool, model: bool,
         label: str) -> tuple[list[Step], Step | None]:
    """(b): more and more streams until one is not kept live (then back, one at a time)."""
    steps: list[Step] = []
    n = max(1, int(a_streams * 0.5))
    stride = max(1, round(a_streams * 0.1))
    deadline = time.monotonic() + budget
    best: Step | None = None
    while time.monotonic() < deadline:
        step = run_worker(clip, n, seconds, copy=copy, model=model)
        steps.append(step)
        print(f"(b) {label}, {n} streams: live={step.live} min {step.min_fps} / mean {step.mean_fps} fps analysed, "
              f"latency p95 {step.latency_p95_s} s, CPU {step.cpu_ms_per_stream_s} ms/stream-s "
              f"(decoders {step.decoders_ms_per_stream_s}, main {step.main_ms_per_stream_s}), "
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
    return steps, best


def main(
    seconds: float = typer.Option(10, help="Each decode-only try and each worker step measure this long"),
    budget: float = typer.Option(60, help="Stop each ramp after this many seconds (a step also waits "
                                 "for its decoders to start)"),
    clips: str = typer.Option("x264,ipp", help="Which streams: x264 (x264 defaults: B-frames), ipp (I/P only)"),
    variants: str = typer.Option("ingest,model", help="(b) as: ingest = decoders, hand-off, motion gate and "
                                 "console frames, no model; model = plus the marker stand-in detector and tracker"),
    compare_streams: int = typer.Option(6, help="Also run this many streams with each decoder (OpenCV, PyAV) "
                                        "for the CPU each costs, in the same run (0 = skip)"),
    minutes: float = typer.Option(0, help="Then hold the largest live count this many minutes (memory)"),
    hold_streams: int = typer.Option(0, help="Hold this many streams instead of the largest live count "
                                     "(e.g. with --budget 0 on a busy machine, for the memory trend alone)"),
    procs: int = typer.Option(0, help="Decoding processes for (a) (0 = CPU cores)"),
    clip_dir: Path = typer.Option(Path("/tmp/lookout-bench"), help="Where the 720p clips are made/kept"),
    json_out: Path = typer.Option(None, help="Write the results as JSON here"),
    copy: bool = typer.Option(False, help="(b) copies every frame out of shared memory (the worker before "
                              "2026-11-23) instead of analysing the view"),
) -> None:
    cores = os.cpu_count() or 1
    # As `lookout worker` sets it for its analysis process (LOOKOUT_OPENCV_THREADS).
    apply_opencv_threads(WorkerSettings().opencv_threads)
    result: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cores": cores,
                    "load_avg_at_start": os.getloadavg(), "opencv": cv2.__version__, "copy": copy, "clips": {}}
    summary = []
    for clip_name in [c.strip() for c in clips.split(",") if c.strip()]:
        name, extra = CLIPS[clip_name]
        clip = make_clip(clip_dir / name, extra=extra)
        tries, a = decode_only(clip, procs or cores, seconds)
        a_cpu = min(t["cpu_ms_per_stream_s"] for t in tries)
        out = {"file": name, "decode_only": a, "decode_only_tries": tries, "variants": {}}
        for variant in [v.strip() for v in variants.split(",") if v.strip()]:
            steps, best = ramp(clip, a["streams"], seconds, budget, copy, variant == "model", f"{clip_name}/{variant}")
            b = best.streams if best else 0
            cpu_b = [st.cpu_ms_per_stream_s for st in steps if st.cpu_ms_per_stream_s > 0]
            mean_b = sum(cpu_b) / len(cpu_b) if cpu_b else 0.0
            row = {"worker_streams": b, "ratio": round(b / a["streams"], 2) if a["streams"] else None,
                   "cpu_ms_per_stream_s": round(mean_b, 1), "cpu_ratio": round(a_cpu / mean_b, 2) if mean_b else None,
                   "limit_reached": bool(steps) and not steps[-1].live, "steps": [asdict(st) for st in steps]}
            out["variants"][variant] = row
            summary.append((clip_name, variant, a["streams"], a["how"], b, row["ratio"], row["limit_reached"],
                            a_cpu, row["cpu_ms_per_stream_s"], row["cpu_ratio"],
                            best.pss_per_stream_mib if best else None))
        if compare_streams:
            cmp = {dec: run_worker(clip, compare_streams, seconds, copy=copy, model=False, decoder=dec)
                   for dec in ("opencv", "auto")}
            out["decoders"] = {dec: asdict(st) | {"samples": []} for dec, st in cmp.items()}
            print(f"decoders, {clip_name}, {compare_streams} streams, no model: OpenCV "
                  f"{cmp['opencv'].cpu_ms_per_stream_s} vs PyAV {cmp['auto'].cpu_ms_per_stream_s} ms CPU per stream-s")
        result["clips"][clip_name] = out
    first = next(iter(result["clips"].values()), None)
    held = hold_streams or (max((v["worker_streams"] for v in first["variants"].values()), default=0) if first else 0)
    if minutes and held and first:
        clip = clip_dir / first["file"]
        hold = run_worker(clip, held, minutes * 60, sample_every_s=30, copy=copy)
        pss0 = hold.samples[1][1] if len(hold.samples) > 1 else None
        print(f"hold {held} streams ({first['file']}, with model) for {minutes} min: live={hold.live} "
              f"min {hold.min_fps} fps, PSS {pss0} → {hold.pss_mib} MiB")
        result["hold"] = asdict(hold)
    result["load_avg_at_end"] = os.getloadavg()
    print("\nclip | (b) as | (a) streams (how) | (b) streams | ratio (b)/(a) | (a) / (b) CPU ms per stream-s | CPU ratio | PSS/stream")
    for clip_name, variant, a_s, how, b, ratio, limit, a_cpu, b_cpu, cpu_ratio, pss in summary:
        print(f"{clip_name} | {variant} | {a_s} ({how}) | {b}{'' if limit else '+'} | {ratio}{'' if limit else '+'} | "
              f"{a_cpu} / {b_cpu} | {cpu_ratio} | {pss} MiB")
    print("(+ = the ramp's budget ran out while every step still passed: a lower bound)")
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    typer.run(main)

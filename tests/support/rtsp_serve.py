"""Serve one RTSP stream on loopback with GStreamer's RTSP server (run with Debian's python3).

    /usr/bin/python3 tests/support/rtsp_serve.py --port 8554 --file video.mp4   # H.264 MP4
    /usr/bin/python3 tests/support/rtsp_serve.py --port 8554 --pattern          # live test pattern

The stream is rtsp://127.0.0.1:PORT/stream. Each client session plays the file from its start
(the factory is not shared), so a client that reconnects after a server restart sees frames at
once; make the file longer than the test. Prints "ready" once listening.
This file must not import anything from the project: it runs outside the project's venv.
"""

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def launch_line(args: argparse.Namespace) -> str:
    if args.pattern:
        return ("( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=10/1 "
                "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 "
                "! rtph264pay name=pay0 pt=96 config-interval=-1 )")
    # config-interval=-1 repeats SPS/PPS before every key frame: reconnecting clients start fast.
    return (f"( filesrc location=\"{args.file}\" ! qtdemux ! h264parse "
            "! rtph264pay name=pay0 pt=96 config-interval=-1 )")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/stream")
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--file")
    group.add_argument("--pattern", action="store_true")
    args = ap.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(args))
    factory.set_shared(False)
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    print("ready", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

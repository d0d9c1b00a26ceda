#!/usr/bin/env bash
# Set up Lookout on a fresh Debian machine: system packages, a virtual environment, the package.
#   scripts/setup.sh          runtime only
#   scripts/setup.sh --test   also test dependencies (RTSP server, browser, broker)
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

# Debian packages: libgl1 for OpenCV, opencv-doc for the PETS09 sample recording; for tests the
# GStreamer RTSP server (run by Debian's python3), ffmpeg, Chromium and a CJK font (console screenshots in 中文).
pkgs=(libgl1 libglib2.0-0 opencv-doc)
if (( want_test )); then
  pkgs+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
         gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly ffmpeg chromium fonts-wqy-microhei)
fi
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if (( ${#missing[@]} )); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install with sudo: apt-get install ${missing[*]}" >&2
  fi
fi

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if (( want_test )); then
  .venv/bin/python -m pip install -q -e '.[test]'
else
  .venv/bin/python -m pip install -q -e .
fi

# Pretrained weights are never downloaded. In this workplace they lie in ../shared/models;
# elsewhere put yolox_nano.onnx into models/ yourself, or Lookout falls back to HOG and says so.
shared=${LOOKOUT_SHARED_DIR:-../shared}
mkdir -p models
for f in yolox_nano.onnx; do
  if [[ ! -f models/$f && -f $shared/models/$f ]]; then cp "$shared/models/$f" models/; echo "setup: copied models/$f"; fi
done
echo "setup: done (.venv ready)"

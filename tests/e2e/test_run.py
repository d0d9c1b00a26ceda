"""`lookout run` — the README's first command — on embedded defaults.

Within its run the example site's camera fires alerts, the dispatcher orders patrol units, and
the simulated unit `patrol-1` acknowledges its order.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.tansu import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]


def test_run_dispatches_to_the_simulated_unit(tmp_path):
    data = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "ingest.cli", "run", "--duration", "30", "--port", str(free_port()),
         "--data-dir", str(data)],
        cwd=ROOT, env=dict(os.environ, COLUMNS="200"), capture_output=True, text=True, timeout=200,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert "console: http://127.0.0.1:" in " ".join(log.split())
    engine = sa.create_engine(f"sqlite:///{data / 'lookout.db'}")
    with engine.connect() as conn:
        alerts = conn.execute(sa.text("select count(*) from alerts")).scalar_one()
        acked = conn.execute(sa.text(
            "select count(*) from orders where responder_id = 'patrol-1' and state in "
            "('acknowledged', 'en_route', 'on_scene', 'resolved')")).scalar_one()
    assert alerts > 0, log[-4000:]
    assert acked >= 1, log[-4000:]
    assert list((data / "snapshots").glob("*.jpg")), "alerts come with annotated snapshots"

"""bin/pipeline, the seeds' pipeline end to end (Java ETL -> DuckDB -> pandas -> torch), as a test: it
starts its own daemon and exits 0 only when every hand-off's checks passed."""

import os
import re
import subprocess

import pytest

from conftest import EXTRA_FLAGS, REPO_DIR

pytest.importorskip("torch")
pytest.importorskip("pandas")


@pytest.mark.skipif("--noextensions" in EXTRA_FLAGS, reason="bin/pipeline starts its own daemon: once is enough")
def test_the_pipeline_passes_every_check():
    run = subprocess.run([str(REPO_DIR / "bin" / "pipeline"), "200000"], capture_output=True, text=True,
                         timeout=600, env=dict(os.environ))
    out = run.stdout
    assert run.returncode == 0, out + run.stderr[-4000:]
    for step in ("1. java ETL", "2. duckdb GROUP BY", "3. python:", "4. torch:"):
        line = next((line for line in out.splitlines() if line.startswith(step)), None)
        assert line is not None and line.endswith("ok"), out
    w, b = (float(v) for v in re.search(r"w=(\S+) b=(\S+)", out).groups())
    assert abs(w - 2) < 0.02 and abs(b - 1) < 0.02, "the events were made with y = 2x + 1"
    assert out.rstrip().endswith("pipeline: every check passed")

"""`ResponseModel.fit` runs every BLAS library on one thread, scipy's own too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from threadpoolctl import threadpool_info
from optimizer.curves import model
from optimizer.pipeline import load_campaign

campaign = load_campaign(sys.argv[1])
assert "scipy.linalg" not in sys.modules, "scipy loaded before the fit: the test proves nothing"
seen = []
inner = model.ResponseModel._fit

def recording(self, *args, **kwargs):
    out = inner(self, *args, **kwargs)  # loads scipy and statsmodels on the way
    seen.extend((info["filepath"], info["num_threads"]) for info in threadpool_info()
                if info["user_api"] == "blas")
    return out

model.ResponseModel._fit = recording
model.ResponseModel().fit(campaign.panel())
print(seen)
"""


def test_fit_limits_scipys_blas_loaded_during_it():
    """A fresh interpreter with two OpenBLAS threads: within the fit, numpy's and scipy's
    libraries (scipy's is loaded by the fit itself) both run one."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT / "configs" / "demo.yaml")],
                          env=env, capture_output=True, text=True, timeout=300, check=True)
    seen = eval(done.stdout.strip().splitlines()[-1])  # noqa: S307 - our own script's list
    assert any("scipy" in path and "numpy" not in path for path, _ in seen), seen
    assert all(threads == 1 for _, threads in seen), seen

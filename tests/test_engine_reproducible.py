"""Same seed, same device, same number of CPU threads: the same result, bit
for bit, in bf16 and fp32, also in another process. (The audit of issue 12
saw 9 different bf16 results in 30 runs of this 16x24 half-transparent
case; those runs also hit NaN steps, which the engine now repairs.)

On CPUs with AMX, oneDNN's bf16 AMX kernels are not reproducible themselves
(4 runs, 4 results on a 2-core Xeon with AMX-BF16, even on one thread), so
the bf16 runs cap oneDNN below AMX (ONEDNN_MAX_CPU_ISA): what is tested is
that the engine's own steps are deterministic; a no-op on CPUs without AMX."""

import os
import subprocess
import sys

import pytest

SCRIPT = r"""
import hashlib, sys, warnings
warnings.simplefilter("ignore")
import numpy as np
import magic_engine
rng = np.random.default_rng(0)
image = np.zeros((24, 16, 4), np.uint8)
image[..., :3] = rng.integers(0, 255, (24, 16, 3))
image[..., 3] = rng.integers(0, 2, (24, 16)) * 255
source = np.zeros((24, 16), np.uint8); source[4:10, 3:8] = 255
target = np.zeros((24, 16), np.uint8); target[12:20, 8:14] = 255
classifier = magic_engine.load_classifier("random:resnet18", "cpu")
for _ in range(2):
    config = magic_engine.make_config("tiny", "position", precision=sys.argv[1])
    result = magic_engine.synthesize(image, source, target, config, classifier=classifier, device="cpu", seed=5)
    digest = hashlib.sha256(b"".join(c.tobytes() for c in result.composites)).hexdigest()
    print(digest, all(np.isfinite(v) for v in result.report.final_losses.values() if v is not None))
"""


NO_AMX = {"bf16": {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"}}


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["bf16", "fp32"])
def test_same_seed_same_result_across_runs_and_processes(precision):
    outputs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", SCRIPT, precision], capture_output=True, text=True,
                              timeout=300, env=dict(os.environ, OMP_NUM_THREADS="2", **NO_AMX.get(precision, {})))
        assert done.returncode == 0, done.stderr
        outputs += done.stdout.split("\n")[:2]
    digests = {line.split()[0] for line in outputs}
    assert len(digests) == 1, outputs
    assert all(line.endswith("True") for line in outputs), outputs

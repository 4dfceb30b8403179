"""Check that OPENBLAS_CORETYPE=<kernel> really changes the BLAS kernel the tests will use.

Usage: python .ci/openblas_kernel.py KERNEL

numpy's and scipy's wheels each bundle an OpenBLAS built for several CPU kernels and pick one at
import time; OPENBLAS_CORETYPE overrides the pick. This prints the kernel of every OpenBLAS that
numpy, scipy and statsmodels load, on this machine and under the override, and exits with 1 when
the override leaves any of them on this machine's own kernel (a name OpenBLAS does not know, or
the same kernel as this CPU's): a second test run would then repeat the first.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = (
    "import json, numpy, scipy.linalg, statsmodels.api, threadpoolctl;"
    "print(json.dumps([[i['filepath'].rsplit('/', 1)[-1], i.get('architecture')]"
    " for i in threadpoolctl.threadpool_info() if i['internal_api'] == 'openblas']))"
)


def kernels(coretype: str | None) -> list[list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    want = sys.argv[1]
    own, alt = kernels(None), kernels(want)
    if not own:
        print("openblas_kernel: numpy and scipy load no OpenBLAS here; OPENBLAS_CORETYPE changes "
              "nothing, so there is no second kernel to test under.", file=sys.stderr)
        return 1
    for (lib, mine), (_, theirs) in zip(own, alt):
        print(f"openblas_kernel: {lib}: this machine {mine}, OPENBLAS_CORETYPE={want} -> {theirs}")
    same = [lib for (lib, mine), (_, theirs) in zip(own, alt) if mine == theirs]
    if same:
        print(f"openblas_kernel: OPENBLAS_CORETYPE={want} leaves {', '.join(same)} on this machine's "
              "own kernel; choose another, e.g. make test-altcpu ALTCPU=Sandybridge (or Haswell, "
              "Prescott).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run the course's benchmark (``make bench``) and write build/bench/bench.md and bench.json.

    python tests/benchmarks/run_bench.py [--repeats 3] [--big-repeats 3] [--huge-repeats 1]
                                         [--quick] [--no-lme4] [--only TEXT]

Sections come from every ``tests/benchmarks/bench_*.py`` module (see benchlib.py for how to add
one). Timings are medians of the repeats; nothing here asserts anything about time.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import json
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Keep BLAS to one thread (the machine is shared; R's reference BLAS is single-threaded too).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(HERE))

import benchlib  # noqa: E402


def load_sections() -> list[benchlib.Section]:
    for path in sorted(HERE.glob("bench_*.py")):
        importlib.import_module(path.stem)
    return sorted(benchlib.SECTIONS, key=lambda s: (s.order, s.title))


def versions() -> dict:
    out = {"python": platform.python_version(), "machine": platform.machine(),
           "cpus": os.cpu_count(), "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
           # other work on the machine inflates every time: the 1-minute load average at the start
           "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None}
    for mod in ("numpy", "scipy", "pandas", "statsmodels", "mlmcourse"):
        try:
            out[mod] = getattr(importlib.import_module(mod), "__version__", "?")
        except Exception as exc:  # pragma: no cover - reported in the output
            out[mod] = f"not importable ({type(exc).__name__})"
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each quick task (median reported)")
    parser.add_argument("--big-repeats", type=int, default=3, help="repeats of each 100,000-row task")
    parser.add_argument("--huge-repeats", type=int, default=1,
                        help="repeats of the 1,000,000-row task (lme4 takes minutes per fit)")
    parser.add_argument("--quick", action="store_true", help="skip the 100,000- and 1,000,000-row tasks")
    parser.add_argument("--no-lme4", action="store_true", help="do not run Rscript even if present")
    parser.add_argument("--only", default=None,
                        help="run only sections whose title contains this text (or one of several, comma-separated)")
    parser.add_argument("--out", type=Path, default=benchlib.ROOT / "build" / "bench")
    args = parser.parse_args(argv)

    ctx = benchlib.BenchContext(repeats=args.repeats, big_repeats=args.big_repeats,
                                huge_repeats=args.huge_repeats, quick=args.quick, out_dir=args.out,
                                lme4=not args.no_lme4)
    results = []
    for sec in load_sections():
        if args.only and not any(t.strip().lower() in sec.title.lower() for t in args.only.split(",")):
            continue
        print(f"... {sec.title}", file=sys.stderr, flush=True)
        try:
            rows = sec.func(ctx)
        except Exception as exc:   # one broken section must not hide the others
            rows = [benchlib.Row(sec.title, "—", None, 0, "", f"section failed: {type(exc).__name__}: {exc}")]
        results.append((sec, rows))

    meta = {"date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "repeats": ctx.repeats, "big_repeats": ctx.big_repeats, "huge_repeats": ctx.huge_repeats,
            "quick": ctx.quick, **versions()}
    header = (f"## Benchmark ({meta['date']}; Python {meta['python']}, statsmodels {meta['statsmodels']}, "
              f"{meta['cpus']} CPUs, BLAS threads {meta['blas_threads']}, "
              f"load average {meta['load_average_1min']} at start)")
    md = benchlib.render_markdown(results, header)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.md").write_text(md + "\n")
    (args.out / "bench.json").write_text(json.dumps(benchlib.as_json(results, meta), indent=2, default=str) + "\n")
    print(md)
    print(f"\nwrote {args.out / 'bench.md'} and {args.out / 'bench.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

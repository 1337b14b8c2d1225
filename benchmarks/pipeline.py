"""Benchmark: the core pipeline (validate, store, tables, signals, report) on a synthetic trial.

    uv run python benchmarks/pipeline.py --subjects 100000 [--seed 1] [--workdir benchmarks/out]

Generates the trial in a child process (timed separately), then times each stage without
Prefect in this process and reports this process's peak RSS. Results are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from flows.stages import analyse, ingest, render


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()

    folder = args.workdir / f"trial-{args.subjects}"
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "flows.cli", "synth", "--subjects", str(args.subjects), "--seed", str(args.seed), "--out", str(folder)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    generated = time.perf_counter()

    loaded = ingest(folder / "trial.toml", out_root=folder / "out", database=folder / "toxwatch.duckdb")
    ingested = time.perf_counter()
    analysis = analyse(loaded)
    analysed = time.perf_counter()
    render(loaded)
    rendered = time.perf_counter()

    result = {
        "subjects": args.subjects,
        "rows": {name: counts["rows_in"] for name, counts in loaded.accounting.items()},
        "generate_s": round(generated - started, 2),
        "validate_and_store_s": round(ingested - generated, 2),
        "tables_and_signals_s": round(analysed - ingested, 2),
        "report_s": round(rendered - analysed, 2),
        "pipeline_s": round(rendered - generated, 2),
        "stage_timings": loaded.timings | analysis["timings"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

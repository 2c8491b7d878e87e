"""``python -m graphformers.bench SUITE [options]``: benchmark suites; CSV to ``--out``, Markdown to stdout."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from graphformers.benchmarks.scaling import markdown_table, run_scaling, write_csv
from graphformers.registry import MIXERS


def build_parser() -> argparse.ArgumentParser:
    """The command line: one sub-command per suite."""
    parser = argparse.ArgumentParser(prog="python -m graphformers.bench", description=__doc__)
    suites = parser.add_subparsers(dest="suite", required=True)
    scaling = suites.add_parser("scaling", help="one GPS layer fwd+bwd per mixer on growing single graphs")
    scaling.add_argument("--mixers", default="performer,exphormer,polynormer,full",
                         help="comma-separated registered mixers (default: %(default)s)")
    scaling.add_argument("--sizes", default="1000,10000,100000,1000000",
                         help="comma-separated node counts (default: %(default)s)")
    scaling.add_argument("--memory-gib", type=float, default=20.0, help="memory budget per run (default: %(default)s)")
    scaling.add_argument("--repeats", type=int, default=2, help="timed runs after one warm-up (default: %(default)s)")
    scaling.add_argument("--timeout", type=float, default=300.0,
                         help="longest step allowed, measured or projected (default: %(default)s)")
    scaling.add_argument("--quick", action="store_true",
                         help="tiny sizes, one repeat, one process per point: a smoke test")
    scaling.add_argument("--out", type=Path, default=Path("bench-results"), help="output folder (default: %(default)s)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the chosen suite, write ``<out>/<suite>.csv`` and print its Markdown table."""
    args = build_parser().parse_args(argv)
    mixers = [name.strip() for name in args.mixers.split(",") if name.strip()]
    for mixer in mixers:
        MIXERS.get(mixer)
    sizes = [200, 2000] if args.quick else [int(float(size)) for size in args.sizes.split(",")]
    rows = run_scaling(mixers, sizes, args.memory_gib, 1 if args.quick else args.repeats, args.timeout,
                       steady_timing=not args.quick)
    write_csv(rows, args.out / "scaling.csv")
    print(markdown_table(rows))
    print(f"\nCSV: {args.out / 'scaling.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

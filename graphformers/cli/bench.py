"""``graphformers bench SUITE [options]``: benchmark suites; CSV to ``--out``, Markdown to stdout."""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from graphformers.cli.base import Command
from graphformers.errors import GraphformersError

RECIPES = Path("recipes")
STEP_PRECISIONS = ("32-true", "64-true", "bf16-mixed", "16-mixed")
"""The precisions the step suite measures in (Lightning's names)."""
MODEL_PRECISIONS = ("32-true", "bf16-mixed", "16-mixed")
"""The precisions the model suite measures both models in."""


class Bench(Command):
    """Run one benchmark suite, write ``<out>/<suite>.csv`` (and ``.png``), print its Markdown table."""

    name = "bench"
    help = "benchmark suites: model (vs PyG's GPSConv), step, scaling, encoders, pairs, fullbatch, device"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _add_suites(parser)

    def run(self, args: argparse.Namespace) -> int:
        return _run(args)


def _add_suites(parser: argparse.ArgumentParser) -> None:
    """One sub-command per suite, with its options."""
    from graphformers.benchmarks import step

    suites = parser.add_subparsers(dest="suite", required=True)
    scaling = suites.add_parser("scaling", help="one GPS layer fwd+bwd per mixer on growing single graphs")
    scaling.add_argument("--mixers", default="performer,exphormer,polynormer,sgformer,aft,cat,mamba,full",
                         help="comma-separated registered mixers (default: %(default)s)")
    scaling.add_argument("--sizes", default="1000,10000,100000,1000000",
                         help="comma-separated node counts (default: %(default)s)")
    scaling.add_argument("--memory-gib", type=float, default=20.0, help="memory budget per run (default: %(default)s)")
    scaling.add_argument("--repeats", type=int, default=2, help="timed runs after one warm-up (default: %(default)s)")
    scaling.add_argument("--timeout", type=float, default=300.0,
                         help="longest step allowed, measured or projected (default: %(default)s)")
    scaling.add_argument("--device", default="cpu", help="cpu or cuda (default: %(default)s)")
    scaling.add_argument("--quick", action="store_true",
                         help="tiny sizes, one repeat, all in this process: a smoke test")
    scaling.add_argument("--out", type=Path, default=Path("bench-results"), help="output folder (default: %(default)s)")
    model_suite = suites.add_parser("model", help="GPS training throughput and memory vs PyG's GPSConv")
    model_suite.add_argument("--batches", default="peptides-func,zinc,hiv,generated",
                             help="comma-separated batch sets; real ones are skipped when their data is absent "
                                  "(default: %(default)s)")
    model_suite.add_argument("--mixers", default="full,performer",
                             help="comma-separated: full, performer (each against PyG's), any other registered "
                                  "mixer (ours only), none (ours without a mixer: the work both models share) "
                                  "(default: %(default)s)")
    model_suite.add_argument("--batch-size", type=int, default=128, help="graphs per batch (default: %(default)s)")
    model_suite.add_argument("--num-batches", type=int, default=8, help="batches per timed pass (default: %(default)s)")
    model_suite.add_argument("--hidden", type=int, default=96, help="hidden size (default: %(default)s)")
    model_suite.add_argument("--layers", type=int, default=4, help="GPS layers (default: %(default)s)")
    model_suite.add_argument("--heads", type=int, default=4, help="attention heads (default: %(default)s)")
    model_suite.add_argument("--attn-dropout", type=float, default=0.5,
                             help="attention dropout, both models (default: %(default)s, GraphGPS's LRGB setting)")
    model_suite.add_argument("--repeats", type=int, default=3,
                             help="fresh-process runs per model (default: %(default)s)")
    model_suite.add_argument("--device", default="cpu", help="cpu or cuda (default: %(default)s)")
    model_suite.add_argument("--precision", default="32-true",
                             help="comma-separated: 32-true, bf16-mixed, 16-mixed; both models in each (default: "
                                  "%(default)s)")
    model_suite.add_argument("--root", default=None, help="data root (default: $GRAPHFORMERS_DATA, else ./datasets)")
    model_suite.add_argument("--quick", action="store_true", help="generated batches only, 2 x 16 graphs, hidden 32")
    model_suite.add_argument("--out", type=Path, default=Path("bench-results"),
                             help="output folder (default: %(default)s)")
    encoder_suite = suites.add_parser("encoders", help="positional-encoding precompute vs PyG's transforms")
    encoder_suite.add_argument("--molecules", type=int, default=10_000,
                               help="generated molecule-sized graphs (default: %(default)s)")
    encoder_suite.add_argument("--large-sizes", default="10000,100000",
                               help="comma-separated node counts of single large graphs (default: %(default)s)")
    encoder_suite.add_argument("--k", type=int, default=8, help="Laplacian eigenvectors (default: %(default)s)")
    encoder_suite.add_argument("--steps", type=int, default=16, help="random-walk steps (default: %(default)s)")
    encoder_suite.add_argument("--repeats", type=int, default=3, help="timed runs per method (default: %(default)s)")
    encoder_suite.add_argument("--workers", type=int, default=2,
                               help="also time ours with this many workers when > 1 (default: %(default)s)")
    encoder_suite.add_argument("--quick", action="store_true", help="200 molecules, one 1,500-node graph, one repeat")
    encoder_suite.add_argument("--out", type=Path, default=Path("bench-results"),
                               help="output folder (default: %(default)s)")
    full = suites.add_parser("fullbatch", help="full-batch training epochs on one graph and where their time goes")
    full.add_argument("--recipes", default=",".join(str(RECIPES / f"minesweeper-{name}.yaml")
                                                    for name in ("gcn", "sage", "gat", "gt")),
                      help="comma-separated recipes of one-graph datasets (default: %(default)s)")
    full.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                      help="recipe override for every recipe, repeatable (e.g. --set model.hidden=64)")
    full.add_argument("--repeats", type=int, default=5,
                      help="timed runs of each part after a warm-up (default: %(default)s)")
    full.add_argument("--trainer-epochs", type=int, default=8,
                      help="epochs of the Lightning run that times whole epochs; 0 skips it (default: %(default)s)")
    full.add_argument("--quick", action="store_true",
                      help="hidden 16, one layer, one repeat, a 3-epoch Lightning run: a smoke test")
    full.add_argument("--out", type=Path, default=Path("bench-results"), help="output folder (default: %(default)s)")
    pair_suite = suites.add_parser("pairs", help="pair-encoding precompute vs per graph; GRIT vs GPS training")
    pair_suite.add_argument("--graphs", type=int, default=2000, help="graphs for the precompute (default: %(default)s)")
    pair_suite.add_argument("--steps", type=int, default=17,
                            help="RRWP steps (default: %(default)s, GRIT's Peptides-func)")
    pair_suite.add_argument("--recipes",
                            default=",".join(str(RECIPES / f"peptides-func-{name}.yaml") for name in ("gps", "grit")),
                            help="comma-separated recipes to train side by side; ratios are to the first "
                                 "(default: %(default)s)")
    pair_suite.add_argument("--batch-size", type=int, default=16,
                            help="graphs per training batch (default: %(default)s)")
    pair_suite.add_argument("--num-batches", type=int, default=4, help="batches per timed pass (default: %(default)s)")
    pair_suite.add_argument("--repeats", type=int, default=3, help="timed runs per method (default: %(default)s)")
    pair_suite.add_argument("--workers", type=int, default=2,
                            help="also time our precompute with this many workers when > 1 (default: %(default)s)")
    pair_suite.add_argument("--root", default=None, help="data root (default: $GRAPHFORMERS_DATA, else ./datasets)")
    pair_suite.add_argument("--quick", action="store_true",
                            help="100 graphs, 8 steps, 2 batches of 2 graphs, one repeat: a smoke test")
    pair_suite.add_argument("--out", type=Path, default=Path("bench-results"),
                            help="output folder (default: %(default)s)")
    step_suite = suites.add_parser("step", help="seconds per training step of whole recipes, per precision, "
                                                "against an earlier commit")
    step_suite.add_argument("--sets", default="peptides-func,hiv",
                            help=f"comma-separated step sets ({', '.join(step.SETS)}; default: %(default)s)")
    step_suite.add_argument("--precisions", default="32-true,bf16-mixed",
                            help="comma-separated precisions of this checkout (default: %(default)s)")
    step_suite.add_argument("--against", default=None, metavar="REV",
                            help="also time this commit of the repository, in float32; speed-ups are over it")
    step_suite.add_argument("--compare", action="append", default=[], metavar="KEY=VALUE",
                            help="also time this checkout with this override, repeatable (e.g. train.compile=true)")
    step_suite.add_argument("--batch-size", type=int, default=128, help="graphs per batch (default: %(default)s)")
    step_suite.add_argument("--batches", type=int, default=3, help="batches per timed pass (default: %(default)s)")
    step_suite.add_argument("--repeats", type=int, default=3,
                            help="fresh-process runs per variant (default: %(default)s)")
    step_suite.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                            help="recipe override for every set, repeatable (e.g. --set model.layers=2)")
    step_suite.add_argument("--root", default=None, help="data root (default: $GRAPHFORMERS_DATA, else ./datasets)")
    step_suite.add_argument("--quick", action="store_true", help="the quickstart recipe, 2 batches of 8, one repeat")
    step_suite.add_argument("--out", type=Path, default=Path("bench-results"),
                            help="output folder (default: %(default)s)")
    device_suite = suites.add_parser("device", help="a GPU check in one command: every part and precision, the model "
                                                    "suite, and recipe epochs within --minutes")
    device_suite.add_argument("--minutes", type=float, default=8.0, help="time budget (default: %(default)s)")
    device_suite.add_argument("--root", default=None, help="data root (default: $GRAPHFORMERS_DATA, else ./datasets)")
    device_suite.add_argument("--quick", action="store_true",
                              help="the same checks on the CPU at tiny sizes (quickstart recipe): a smoke test")
    device_suite.add_argument("--out", type=Path, default=Path("bench-results"),
                              help="output folder (default: %(default)s)")


def _run(args: argparse.Namespace) -> int:
    """Run the suite ``args`` names and report it; the exit status. A bad option value is found
    before anything is measured."""
    from graphformers.benchmarks import device, encoders, fullbatch, model, pairs, plots, scaling, step
    from graphformers.benchmarks.results import write_csv

    if args.suite == "device":
        print(device.run_device(args.minutes, args.out, args.quick, args.root))
        print(f"\nReport: {args.out / 'device.md'}; CSVs: {args.out}/device-*.csv")
        return 0
    if args.suite == "scaling":
        rows, columns, table, plot = _scaling(args), scaling.COLUMNS, scaling.markdown_table, plots.plot_scaling
    elif args.suite == "model":
        rows, columns, table, plot = _model(args), model.COLUMNS, model.markdown_table, plots.plot_model
    elif args.suite == "encoders":
        rows, columns, table, plot = _encoders(args), encoders.COLUMNS, encoders.markdown_table, plots.plot_encoders
    elif args.suite == "step":
        rows, columns, table, plot = _step(args), step.COLUMNS, step.markdown_table, None
    elif args.suite == "pairs":
        rows, columns, table, plot = _pairs(args), pairs.COLUMNS, pairs.markdown_table, plots.plot_pairs
    else:
        rows, columns, table, plot = _fullbatch(args), fullbatch.COLUMNS, fullbatch.markdown_table, plots.plot_fullbatch
    path = args.out / f"{args.suite}.csv"
    write_csv(rows, columns, path)
    print(table(rows))
    print(f"\nCSV: {path}")
    if plot is not None:
        plot(rows, path.with_suffix(".png"))
        print(f"Plot: {path.with_suffix('.png')}")
    return 0


def _scaling(args: argparse.Namespace) -> list[dict]:
    from graphformers.benchmarks import scaling
    from graphformers.registry import MIXERS

    mixers = _names(args.mixers)
    for mixer in mixers:
        MIXERS.get(mixer)
    sizes = [200, 2000] if args.quick else _sizes(args.sizes, "--sizes")
    return scaling.run_scaling(mixers, sizes, args.memory_gib, 1 if args.quick else args.repeats, args.timeout,
                               quick=args.quick, device=args.device)


def _model(args: argparse.Namespace) -> list[dict]:
    from graphformers.benchmarks import model

    settings = {"hidden": args.hidden, "layers": args.layers, "heads": args.heads, "attn_dropout": args.attn_dropout}
    mixers = _choices(args.mixers, model.suite_mixers(), "--mixers", "mixer")
    precisions = _choices(args.precision, MODEL_PRECISIONS, "--precision", "precision")
    if args.quick:
        quick = {**settings, "hidden": 32, "layers": 2, "heads": 4}
        return model.run_model(["generated"], mixers, 16, 2, quick, 1, args.device, args.root, precisions)
    return model.run_model(_names(args.batches), mixers, args.batch_size, args.num_batches, settings,
                           args.repeats, args.device, args.root, precisions)


def _encoders(args: argparse.Namespace) -> list[dict]:
    from graphformers.benchmarks import encoders

    if args.quick:
        return encoders.run_encoders(200, [1500], args.k, args.steps, 1, args.workers)
    sizes = _sizes(args.large_sizes, "--large-sizes")
    return encoders.run_encoders(args.molecules, sizes, args.k, args.steps, args.repeats, args.workers)


def _fullbatch(args: argparse.Namespace) -> list[dict]:
    from graphformers.benchmarks import fullbatch

    recipes = [Path(name) for name in _names(args.recipes)]
    if args.quick:
        quick = ["model.hidden=16", "model.layers=1", *args.overrides]
        return fullbatch.run_fullbatch(recipes, quick, 1, 3)
    return fullbatch.run_fullbatch(recipes, args.overrides, args.repeats, args.trainer_epochs)


def _step(args: argparse.Namespace) -> list[dict]:
    from graphformers.benchmarks import step

    sets = _choices(args.sets, step.SETS, "--sets", "step set")
    precisions = _choices(args.precisions, STEP_PRECISIONS, "--precisions", "precision")
    if args.quick:
        return step.run_step(["quickstart"], precisions, args.against, 2, 8, 1, args.overrides, args.root, args.compare)
    return step.run_step(sets, precisions, args.against, args.batches, args.batch_size, args.repeats,
                         args.overrides, args.root, args.compare)


def _pairs(args: argparse.Namespace) -> list[dict]:
    from graphformers.benchmarks import pairs

    recipes = [Path(name) for name in _names(args.recipes)]
    if args.quick:
        return (pairs.run_precompute(100, 8, 1, args.workers, args.root)
                + pairs.run_training(recipes, 2, 2, 1, args.root))
    return (pairs.run_precompute(args.graphs, args.steps, args.repeats, args.workers, args.root)
            + pairs.run_training(recipes, args.batch_size, args.num_batches, args.repeats, args.root))


def _choices(text: str, known: Sequence[str], option: str, what: str) -> list[str]:
    """The items of a comma-separated option, each one of ``known`` (else one error naming the first
    unknown one and the choices)."""
    names = _names(text)
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise GraphformersError(f"{option}: unknown {what} {unknown[0] if unknown else text!r}; choose from "
                                f"{', '.join(known)} (comma-separated).")
    return names


def _sizes(text: str, option: str) -> list[int]:
    """The node counts of a comma-separated option (``1e5`` allowed)."""
    try:
        sizes = [int(float(size)) for size in _names(text)]
    except ValueError:
        raise GraphformersError(f"{option} {text!r}: give comma-separated node counts, e.g. 1000,1e5.") from None
    if not sizes or min(sizes) < 1:
        raise GraphformersError(f"{option} {text!r}: node counts must be positive.")
    return sizes


def _names(text: str) -> list[str]:
    """The non-empty items of a comma-separated option."""
    return [item.strip() for item in text.split(",") if item.strip()]


COMMAND = Bench()

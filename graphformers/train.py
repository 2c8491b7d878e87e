"""``python -m graphformers.train RECIPE.yaml [section.key=value ...] [--resume [CKPT]] [--seeds S] [--splits K]``"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Optional, Sequence

from graphformers.command_line import CommandParser
from graphformers.errors import GraphformersError
from graphformers.recipe import Recipe, load_recipe


def build_parser() -> argparse.ArgumentParser:
    """The command line: a recipe, dotted overrides and ``--resume``."""
    parser = CommandParser(prog="python -m graphformers.train", description="Train a recipe.")
    parser.add_argument("recipe", help="path to a recipe YAML file")
    parser.add_argument("overrides", nargs="*", help="dotted overrides, e.g. model.layers=6 train.max_epochs=3")
    parser.add_argument("--resume", nargs="?", const="last", metavar="CKPT",
                        help="continue the newest run of this recipe from its last.ckpt, or from CKPT; with --seeds or "
                             "--splits, continue that multi-run")
    parser.add_argument("--seeds", metavar="S", help="one run per seed, e.g. 0,1,2,3 or 0-3; writes runs/<name>/summary.md")
    parser.add_argument("--splits", metavar="K",
                        help="one run per official split of the dataset, e.g. 0-9 (with --seeds: every seed on every split)")
    return parser


OVERRIDE = re.compile(r"^(name|imports|[A-Za-z_]\w*(\.[A-Za-z_]\w*)+)=")
"""A recipe key (dotted, or a top-level ``name`` / ``imports``) and ``=``: an override, not a checkpoint path."""


def resume_takes_no_override(argv: Sequence[str]) -> list[str]:
    """``argv`` with ``--resume`` given its default explicitly where the next word is an override
    (``--resume train.progress_bar=false`` resumes the newest run and applies the override; argparse
    alone would read the override as the checkpoint path).

    Args:
        argv (sequence of str): the command-line words after the program name.
    """
    words = list(argv)
    for index, word in enumerate(words[:-1]):
        following = words[index + 1]
        if word == "--resume" and OVERRIDE.match(following) and not Path(following).is_file():
            words[index] = "--resume=last"
    return words


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Train, test and report; an error meant for the user (:class:`GraphformersError`: recipe, data,
    resumption, a diverging loss, a graph too large, an untrusted checkpoint, a dead loader worker,
    Ctrl-C) prints one ``error:`` line and exits 2."""
    args = build_parser().parse_intermixed_args(resume_takes_no_override(sys.argv[1:] if argv is None else argv))
    from graphformers.training.runner import run

    try:
        recipe = load_recipe(args.recipe, args.overrides)
        if args.seeds is not None or args.splits is not None:
            return _run_many(recipe, args, argv)
        result = run(recipe, resume=args.resume)
    except GraphformersError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not result.is_global_zero:
        return 0
    print(f"test {result.metric}: {result.test_value:.4f} (best checkpoint on validation)")
    print(f"checkpoints: {result.best_checkpoint}  {result.last_checkpoint}")
    print(f"logs: {result.metrics_csv}")
    return 0


def _run_many(recipe: Recipe, args: argparse.Namespace, argv: Optional[Sequence[str]]) -> int:
    """``--seeds`` / ``--splits``: every run, then where the summary is and how it compares."""
    from graphformers.experiments.multirun import MultiRunError, parse_indices, run_many

    if args.resume not in (None, "last"):
        raise MultiRunError(f"--resume {args.resume}: a multi-run resumes as a whole; give --resume without a "
                            f"checkpoint (each unfinished run continues from its own last.ckpt).")
    seeds = parse_indices(args.seeds, "--seeds") if args.seeds is not None else None
    splits = parse_indices(args.splits, "--splits") if args.splits is not None else None
    words = list(sys.argv[1:] if argv is None else argv)
    result = run_many(recipe, seeds, splits, resume=args.resume is not None,
                      command=" ".join(["python -m graphformers.train", *words]))
    print(f"test {recipe.name}: {result.line}")
    print(f"summary: {result.out_dir / 'summary.md'}  {result.out_dir / 'summary.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``graphformers train RECIPE.yaml [section.key=value ...] [--resume [CKPT]] [--seeds S] [--splits K] [--jobs N]``"""
from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from graphformers.cli.base import Command, add_recipe_arguments

if TYPE_CHECKING:
    from graphformers.recipe import Recipe

OVERRIDE = re.compile(r"^(name|imports|[A-Za-z_]\w*(\.[A-Za-z_]\w*)+)=")
"""A recipe key (dotted, or a top-level ``name`` / ``imports``) and ``=``: an override, not a checkpoint path."""


class Train(Command):
    """Train, test and report a recipe (one run, or one per seed / split)."""

    name = "train"
    help = "train a recipe (one run, or one per seed or split)"
    intermixed = True

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_recipe_arguments(parser, "dotted overrides, e.g. model.layers=6 train.max_epochs=3")
        parser.add_argument("--resume", nargs="?", const="last", metavar="CKPT",
                            help="continue the newest run of this recipe from its last.ckpt, or from CKPT; with "
                                 "--seeds or --splits, continue that multi-run")
        parser.add_argument("--seeds", metavar="S",
                            help="one run per seed, e.g. 0,1,2,3 or 0-3; writes runs/<name>/summary.md")
        parser.add_argument("--splits", metavar="K",
                            help="one run per official split of the dataset, e.g. 0-9 (with --seeds: every seed on "
                                 "every split)")
        parser.add_argument("--jobs", type=int, default=1, metavar="N",
                            help="with --seeds / --splits: train N runs at once on the CPU, each in its own process "
                                 "with 1/N of the cores (its output in its folder's output.log; default: 1)")

    def prepare(self, words: Sequence[str]) -> list[str]:
        """``words`` with ``--resume`` given its default explicitly where the next word is an override
        (``--resume train.progress_bar=false`` resumes the newest run and applies the override; argparse
        alone would read the override as the checkpoint path)."""
        words = list(words)
        for index, word in enumerate(words[:-1]):
            following = words[index + 1]
            if word == "--resume" and OVERRIDE.match(following) and not Path(following).is_file():
                words[index] = "--resume=last"
        return words

    def run(self, args: argparse.Namespace) -> int:
        from graphformers.recipe import RecipeError, load_recipe
        from graphformers.training.runner import run

        recipe = load_recipe(args.recipe, args.overrides)
        if args.seeds is not None or args.splits is not None:
            return _run_many(recipe, args)
        if args.jobs != 1:
            raise RecipeError(f"--jobs {args.jobs} runs the runs of a multi-run side by side; add --seeds or "
                              f"--splits, or drop --jobs.")
        result = run(recipe, resume=args.resume)
        if not result.is_global_zero:
            return 0
        print(f"test {result.metric}: {result.test_value:.4f} (best checkpoint on validation)")
        print(f"checkpoints: {result.best_checkpoint}  {result.last_checkpoint}")
        print(f"logs: {result.metrics_csv}")
        return 0


def _run_many(recipe: Recipe, args: argparse.Namespace) -> int:
    """``--seeds`` / ``--splits``: every run, then where the summary is and how it compares."""
    from graphformers.experiments.multirun import MultiRunError, parse_indices, run_many

    if args.resume not in (None, "last"):
        raise MultiRunError(f"--resume {args.resume}: a multi-run resumes as a whole; give --resume without a "
                            f"checkpoint (each unfinished run continues from its own last.ckpt).")
    seeds = parse_indices(args.seeds, "--seeds") if args.seeds is not None else None
    splits = parse_indices(args.splits, "--splits") if args.splits is not None else None
    result = run_many(recipe, seeds, splits, resume=args.resume is not None,
                      command=" ".join(["python -m graphformers.train", *args.words]), jobs=args.jobs)
    print(f"test {recipe.name}: {result.line}")
    print(f"summary: {result.out_dir / 'summary.md'}  {result.out_dir / 'summary.csv'}")
    return 0


COMMAND = Train()

"""``graphformers sweep RECIPE.yaml --space SPACE.yaml --trials N [section.key=value ...]``: an Optuna
search over recipe keys, each trial a normal run under ``runs/<name>/sweep/``."""
from __future__ import annotations

import argparse

from graphformers.cli.base import Command, add_recipe_arguments
from graphformers.errors import GraphformersError


class Sweep(Command):
    """Search a recipe's hyperparameters, then say where the table and the best recipe are."""

    name = "sweep"
    help = "search a recipe's hyperparameters with Optuna"
    intermixed = True

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_recipe_arguments(parser, "fixed dotted overrides for every trial, e.g. train.max_epochs=20")
        parser.add_argument("--space", required=True,
                            help="YAML search space: recipe keys -> {choices: [...]} or {low, high, log, step}")
        parser.add_argument("--trials", type=int, required=True,
                            help="finished trials the study should hold (a rerun continues it)")
        parser.add_argument("--seed", type=int, default=0, help="seed of Optuna's sampler (default: 0)")

    def run(self, args: argparse.Namespace) -> int:
        from graphformers.experiments.search_space import load_space
        from graphformers.experiments.sweeps import BEST_RECIPE, TRIALS_MD, sweep

        if args.trials < 1:
            raise GraphformersError(f"--trials must be at least 1, got {args.trials}.")
        dimensions = load_space(args.space, args.recipe, args.overrides)
        result = sweep(args.recipe, dimensions, args.trials, args.overrides, seed=args.seed)
        print(f"trials: {result.out_dir / TRIALS_MD} ({result.trials} in the study)")
        if result.best_value is not None:
            print(f"best: val {result.best_value:.4f} with {result.best_params}; "
                  f"recipe: {result.out_dir / BEST_RECIPE}")
        return 0


COMMAND = Sweep()

"""``graphformers predict CHECKPOINT INPUT [--out preds.csv]``: predictions of a trained model for a
SMILES CSV, a graphs file (or folder), or a split (train / val / test) of its own dataset."""
from __future__ import annotations

import argparse

from graphformers.cli.base import Command
from graphformers.errors import GraphformersError

OWN_SPLITS = ("train", "val", "test")
"""The inputs that name a split of the checkpoint's own dataset."""


class Predict(Command):
    """Predict with a trained checkpoint and write the table."""

    name = "predict"
    help = "predict with a trained checkpoint (SMILES, saved graphs, or a split of its dataset)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("checkpoint", help="a .ckpt from a run's checkpoints/ folder")
        parser.add_argument("input",
                            help="a SMILES .csv/.tsv, a .pt file or folder of saved Data, or train / val / test")
        parser.add_argument("--out", default="predictions.csv", help="the CSV to write (default: predictions.csv)")
        parser.add_argument("--smiles", metavar="COLUMN", help="the SMILES column (default: the recipe's, else smiles)")
        parser.add_argument("--skip-invalid", action="store_true",
                            help="skip unparsable SMILES instead of refusing the file")
        parser.add_argument("--batch-size", type=int, help="graphs per batch (default: the recipe's data.batch_size)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def run(self, args: argparse.Namespace) -> int:
        from graphformers.prediction.inputs import prediction_table, read_input
        from graphformers.prediction.predictor import Predictor
        from graphformers.task import TASKS

        predictor = Predictor.from_checkpoint(args.checkpoint)
        given = read_input(args.input, predictor, args.smiles, args.skip_invalid)
        if not given.graphs:
            raise GraphformersError(f"{args.input}: no graphs to predict for.")
        if args.input not in OWN_SPLITS:
            predictor.check(given.graphs)
        predictions = predictor.predict_graphs(given.graphs, args.batch_size, progress=not args.no_progress)
        table = prediction_table(predictor, given, predictions)
        table.to_csv(args.out, index=False)
        print(f"predictions: {args.out} ({len(table):,} rows; {predictor.info.task}, "
              f"{TASKS[predictor.info.task].predicts})")
        return 0


COMMAND = Predict()

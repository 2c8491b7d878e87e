"""``python -m graphformers.predict CHECKPOINT INPUT [--out preds.csv]``: predictions of a trained model
for a SMILES CSV, a graphs file (or folder), or a split (train / val / test) of its own dataset."""
from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from graphformers.command_line import CommandParser
from graphformers.errors import GraphformersError


def build_parser() -> argparse.ArgumentParser:
    """The command line: a checkpoint, an input and where the table goes."""
    parser = CommandParser(prog="python -m graphformers.predict", description="Predict with a trained checkpoint.")
    parser.add_argument("checkpoint", help="a .ckpt from a run's checkpoints/ folder")
    parser.add_argument("input", help="a SMILES .csv/.tsv, a .pt file or folder of saved Data, or train / val / test")
    parser.add_argument("--out", default="predictions.csv", help="the CSV to write (default: predictions.csv)")
    parser.add_argument("--smiles", metavar="COLUMN", help="the SMILES column (default: the recipe's, else smiles)")
    parser.add_argument("--skip-invalid", action="store_true", help="skip unparsable SMILES instead of refusing the file")
    parser.add_argument("--batch-size", type=int, help="graphs per batch (default: the recipe's data.batch_size)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Predict and write the table; an error meant for the user prints one ``error:`` line and exits 2."""
    args = build_parser().parse_args(argv)
    from graphformers.prediction.inputs import prediction_table, read_input
    from graphformers.prediction.predictor import Predictor

    try:
        predictor = Predictor.from_checkpoint(args.checkpoint)
        given = read_input(args.input, predictor, args.smiles, args.skip_invalid)
        if not given.splits.test:
            raise GraphformersError(f"{args.input}: no graphs to predict for.")
        if args.input not in ("train", "val", "test"):
            predictor.check(given.splits.test)
        predictions = predictor.predict_splits(given.splits, args.batch_size, progress=not args.no_progress)
    except GraphformersError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    table = prediction_table(predictor, given, predictions)
    table.to_csv(args.out, index=False)
    print(f"predictions: {args.out} ({len(table):,} rows; {predictor.info.task}, "
          f"{'probabilities' if predictor.info.task != 'regression' else 'values in the targets units'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

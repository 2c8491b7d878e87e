"""A trained model ready to predict: rebuilt from its checkpoint alone, applying the encoder
precompute it was trained with, batch by batch through Lightning's ``predict`` loop."""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch import Tensor
from torch_geometric.data import Data

from graphformers.data.base import SplitDataset
from graphformers.data.datamodule import GraphDataModule
from graphformers.data.validation import DataValidationError, validate_graphs
from graphformers.errors import GraphformersError
from graphformers.training.checkpointing import AtomicCheckpointIO
from graphformers.training.module import GraphTask
from graphformers.training.quiet import quiet_libraries


class PredictionInputError(GraphformersError, ValueError):
    """Input graphs that the checkpoint's model cannot read (features of another width, ...)."""


class Predictor:
    """A :class:`~graphformers.training.module.GraphTask` in evaluation mode with its recipe's data settings.

    ``predict(graphs) -> Tensor``: graph level ``[graphs, outputs]``; node level ``[nodes of all
    graphs, outputs]`` (nodes in order); see :meth:`GraphTask.probabilities` for what the values are.

    Args:
        task (GraphTask): the trained task (model, recipe, task info).
    """

    def __init__(self, task: GraphTask) -> None:
        if task.info.level == "link":
            raise PredictionInputError("predictions from link-level checkpoints (pair scores) are not supported yet.")
        self.task = task.eval()
        self.recipe, self.info = task.recipe, task.info

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> Predictor:
        """The predictor of a checkpoint written by a graphformers run (loaded with ``weights_only=True``).

        Args:
            path (str or Path): the ``.ckpt`` file.
        """
        if not Path(path).is_file():
            raise PredictionInputError(f"checkpoint {str(path)!r} not found; give a .ckpt from a run's checkpoints/ "
                                       f"folder.")
        saved = AtomicCheckpointIO().load_checkpoint(path, map_location="cpu")
        if "hyper_parameters" not in saved or "state_dict" not in saved:
            raise PredictionInputError(f"{path} is not a graphformers checkpoint (no hyper_parameters / state_dict).")
        task = GraphTask(**saved["hyper_parameters"])
        task.load_state_dict(saved["state_dict"])
        return cls(task)

    def predict(self, graphs: Data | Sequence[Data], batch_size: int | None = None, progress: bool = True) -> Tensor:
        """Predictions for ``graphs`` (each checked against the model's feature encoders first).

        Args:
            graphs (Data or sequence of Data): new graphs with the features the model was trained on
                (targets are not needed).
            batch_size (int, optional): graphs per batch (default: the recipe's ``data.batch_size``).
            progress (bool): show Lightning's progress bar.
        """
        graphs = [graphs] if isinstance(graphs, Data) else list(graphs)
        self.check(graphs)
        return self.predict_graphs(graphs, batch_size, progress)

    def check(self, graphs: Sequence[Data]) -> None:
        """Raise :class:`PredictionInputError` unless the model can read ``graphs``: node and edge
        features of the widths (or category ids within the vocabularies) of its encoders, finite values,
        edges within the graphs."""
        if not graphs:
            raise PredictionInputError("no graphs to predict for.")
        try:
            validate_graphs(graphs, self.info, "input",
                            fix="give graphs with the features the checkpoint's model was trained on")
        except DataValidationError as error:
            raise PredictionInputError(f"the input does not fit the checkpoint: {error}") from None

    def predict_graphs(self, graphs: Sequence[Data], batch_size: int | None = None, progress: bool = True) -> Tensor:
        """Predictions for ``graphs`` as they are (:meth:`predict` checks them first): the data
        module's ``predict`` split, batched as the recipe batches its dataset.

        Args:
            graphs (sequence of Data): the graphs.
            batch_size (int, optional): graphs per batch (default: the recipe's ``data.batch_size``).
            progress (bool): show Lightning's progress bar.
        """
        config = dataclasses.replace(self.recipe.data, cache=False, num_workers=0,
                                     batch_size=batch_size or self.recipe.data.batch_size)
        datamodule = GraphDataModule(config, seed=self.recipe.train.seed, splits=SplitDataset([], [], [], self.info),
                                     predict=graphs)
        datamodule.set_precompute(self.task.model.precompute_transforms())
        for graph in graphs:
            self.task.model.check_graph_size(graph.num_nodes)
        with quiet_libraries(), torch.no_grad():
            trainer = pl.Trainer(accelerator="auto", devices=1, logger=False, enable_checkpointing=False,
                                 enable_progress_bar=progress, enable_model_summary=False)
            batches = trainer.predict(self.task, datamodule=datamodule)
        return torch.cat([batch.cpu() for batch in batches])

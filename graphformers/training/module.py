"""The LightningModule that trains any registered model on any registered dataset."""
from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.trainer.states import TrainerFn
from torch_geometric.data import Batch

from graphformers.errors import GraphformersError
from graphformers.models.base import GraphModel
from graphformers.recipe import Recipe, recipe_from_dict
from graphformers.registry import MODELS
from graphformers.task import TASKS, TaskInfo
from graphformers.training.objectives import objective_for

FULL_GRAPH_CHUNK = 1 << 16
"""Target nodes per local-block chunk in full-graph evaluation: a chunk's messages (its incoming
edges x hidden) stay in the hundreds of MiB even at ogbn-products' average degree of 50."""


class NonFiniteLossError(GraphformersError, FloatingPointError):
    """The training loss became NaN or infinite."""


class FirstNonFiniteLoss:
    """The first non-finite training loss of an epoch, watched on the loss's device.

    Checking each step's loss on the host (``bool(torch.isfinite(loss))``) makes an accelerator
    drain its queue every step. Instead each step folds its loss into a 3-element tensor on the
    device, ``[next batch index, first bad batch index (-1: none), its loss]``, with no host
    read; :meth:`read` (one read) runs before the epoch's validation, so a diverged epoch is
    still never checkpointed.
    """

    def __init__(self) -> None:
        self.state: torch.Tensor | None = None

    def reset(self) -> None:
        """Forget the epoch's losses (at the start of each epoch)."""
        self.state = None

    def record(self, loss: torch.Tensor, batch_idx: int) -> None:
        """Fold in the loss of batch ``batch_idx`` (the first batch of an epoch, or of a resumed one, sets the
        count)."""
        if self.state is None:
            self.state = torch.tensor([batch_idx, -1.0, 0.0], dtype=torch.float64, device=loss.device)
        step, first, value = self.state.unbind()
        bad = ~torch.isfinite(loss.detach()) & (first < 0)
        self.state = torch.stack([step + 1, torch.where(bad, step, first),
                                  torch.where(bad, loss.detach().double(), value)])

    def read(self) -> tuple[int, float] | None:
        """``(batch index, loss)`` of the epoch's first non-finite loss, or None."""
        if self.state is None:
            return None
        _, first, value = self.state.tolist()
        return (int(first), value) if first >= 0 else None


class GraphTask(pl.LightningModule):
    """Model + loss + metric + optimiser of one recipe.

    Hyperparameters are the plain-data recipe and task info, so a checkpoint alone
    rebuilds the model: ``GraphTask.load_from_checkpoint(path)``.
    """

    def __init__(self, recipe: dict[str, Any], info: dict[str, Any]) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.recipe: Recipe = recipe_from_dict(recipe)
        self.info = TaskInfo(**info)
        self.model: GraphModel = MODELS.get(self.recipe.model.name)(self.recipe.model, self.info)
        self.objective = objective_for(self.info)
        self.val_metric = self.objective.make_metric()
        self.test_metric = self.objective.make_metric()
        self.nonfinite = FirstNonFiniteLoss()

    @property
    def monitor(self) -> str:
        """Logged name of the validation metric that picks the best checkpoint."""
        return f"val/{self.info.metric}"

    def forward(self, batch: Batch, chunk: int | None = None) -> torch.Tensor:
        """The model's output on ``batch``, in float32 at least: under mixed precision (autocast) the
        model computes in bfloat16 / float16, while the loss, the metrics and predictions take float32."""
        output = self.model(batch) if chunk is None else self.model(batch, chunk=chunk)
        return output.float() if output.dtype in (torch.float16, torch.bfloat16) else output

    def on_train_epoch_start(self) -> None:
        self.model.start_epoch(self.current_epoch)
        self.nonfinite.reset()

    def on_validation_start(self) -> None:
        if self.trainer.state.fn == TrainerFn.FITTING:  # the epoch's validation (trainer.training is False there)
            self._stop_if_nonfinite()

    def on_train_epoch_end(self) -> None:
        self._stop_if_nonfinite()

    def _stop_if_nonfinite(self) -> None:
        first = self.nonfinite.read()
        if first is not None:
            raise self._nonfinite_error(*first)

    def _nonfinite_error(self, batch_idx: int, loss: float) -> NonFiniteLossError:
        return NonFiniteLossError(
            f"epoch {self.current_epoch}, batch {batch_idx}: the training loss is {loss}. Nothing from this epoch "
            f"was saved; lower train.lr, keep train.gradient_clip on, check the data, or set "
            f"train.on_nonfinite_loss: skip to skip such steps.")

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor | None:
        """The step's loss. A non-finite loss stops the run with :class:`NonFiniteLossError` before the
        epoch's validation and checkpoint (one process: watched on the device, :class:`FirstNonFiniteLoss`;
        several: found by the all-reduce every step needs anyway). With ``train.on_nonfinite_loss: skip``
        each step's loss is read on the host, and a non-finite one returns None (Lightning then skips
        backward and the update) after restoring the running statistics that forward pass changed."""
        skip = self.recipe.train.on_nonfinite_loss == "skip"
        # the forward pass updates running statistics (batch norm); a skipped step must not keep them
        buffers = self.model.named_buffers()
        statistics = {name: b.clone() for name, b in buffers if b.is_floating_point()} if skip else {}
        output, target = self.predicted(self(batch), batch)
        loss = self.objective.loss(output, target)
        if self.trainer.world_size == 1 and not skip:
            self.nonfinite.record(loss, batch_idx)
            weighted, finite = loss, True
        else:
            weighted, finite = self._share_of_global_batch(loss, output.size(0))
        if not finite:
            if skip:
                buffers = dict(self.model.named_buffers())
                for name, saved in statistics.items():
                    buffers[name].copy_(saved)
                self.log("train/skipped_steps", 1.0, on_step=False, on_epoch=True, reduce_fx="sum",
                         batch_size=batch.num_graphs)
                return None
            raise self._nonfinite_error(batch_idx, loss.item())
        self.log("train/loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=batch.num_graphs,
                 sync_dist=True)
        return weighted

    def _share_of_global_batch(self, loss: torch.Tensor, items: int) -> tuple[torch.Tensor, bool]:
        """``(loss to back-propagate, whether every process's loss is finite)``.

        DDP averages gradients over the ``W`` processes, i.e. weights every process's mean loss
        equally. Scaling each by ``items * W / total items`` makes the averaged gradient that of the
        mean loss over the whole global batch, exactly what one process holding it computes, even
        when processes hold different numbers of nodes, graphs or pairs (exact where the loss is a
        mean over output rows; multilabel losses skip missing labels, so there it is close). The same
        all-reduce tells every process whether any loss is non-finite, so all stop together.
        """
        world = self.trainer.world_size
        if world == 1:
            return loss, bool(torch.isfinite(loss))
        counts = torch.tensor([float(items), float(not torch.isfinite(loss))], device=loss.device)
        total, nonfinite = self.trainer.strategy.reduce(counts, reduce_op="sum").tolist()
        return loss * (items * world / total), nonfinite == 0

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, self.val_metric, "val")

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self._evaluate(batch, self.test_metric, "test")

    def _evaluate(self, batch: Batch, metric: Any, stage: str) -> None:
        model_output = self(batch, chunk=FULL_GRAPH_CHUNK if self.recipe.data.evaluate == "full_graph" else None)
        output, target = self.predicted(model_output, batch)
        self.log(f"{stage}/loss", self.objective.loss(output, target), batch_size=batch.num_graphs, sync_dist=True)
        metric.update(*TASKS[self.info.task].evaluation_inputs(model_output, output, target, batch, self.info))
        self.log(f"{stage}/{self.info.metric}", metric, prog_bar=True, batch_size=batch.num_graphs)

    def predict_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        """Predictions for the scored graphs or nodes of ``batch`` (:meth:`probabilities`)."""
        output = self(batch, chunk=FULL_GRAPH_CHUNK if self.recipe.data.evaluate == "full_graph" else None)
        if "target_mask" in batch:
            output = output[batch.target_mask]
        return self.probabilities(output)

    def probabilities(self, output: torch.Tensor) -> torch.Tensor:
        """The model's raw outputs as predictions: class probabilities (softmax; per position for
        sequences), label probabilities (sigmoid) for binary and multilabel tasks, the values themselves
        for regression (targets are not rescaled in training, so these are in the targets' units).

        Args:
            output (Tensor): ``[rows, outputs]`` (``[rows, length * vocabulary]`` for sequences).
        """
        return TASKS[self.info.task].probabilities(output, self.info)

    def predicted(self, model_output: torch.Tensor, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """``(prediction, target)`` the loss and the metric compare (the task's ``scored``): scored nodes
        or graphs, or for link-level tasks the scores of the positive pairs and of freshly sampled negatives.

        Args:
            model_output (Tensor): the model's output for ``batch``.
            batch (Batch): the batch (``y``, perhaps ``target_mask``; pairs for link-level tasks).
        """
        return TASKS[self.info.task].scored(model_output, batch, self.info)

    def configure_optimizers(self) -> Any:
        train = self.recipe.train
        optimizers = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam}
        # the fused kernel updates every tensor in one pass: 6x faster than the default (foreach) one
        # on the CPU for a 400k-parameter model, where the step took 2% of a molecule batch's training step.
        # Lightning's mixed-precision plugin refuses to clip the gradients of a fused optimizer.
        fused = (all(p.device.type in ("cpu", "cuda") for p in self.parameters())
                 and not train.precision.endswith("-mixed"))
        optimizer = optimizers[train.optimizer](self.parameters(), lr=train.lr, weight_decay=train.weight_decay,
                                                fused=fused or None)
        if train.scheduler == "none":
            return optimizer
        decay_epochs = max(train.max_epochs - train.warmup_epochs, 1)
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=decay_epochs)
        if train.warmup_epochs > 0:
            warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=train.warmup_epochs)
            scheduler = torch.optim.lr_scheduler.SequentialLR(
                optimizer, [warmup, cosine], milestones=[train.warmup_epochs]
            )
        else:
            scheduler = cosine
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}


"""Records the operations that make the host wait for the device (a CUDA sync), run on the CPU.

Under :class:`HostReads` every aten op is checked: reading a value on the host
(``.item()``, ``bool(t)``: ``_local_scalar_dense``; ``.tolist()``), ops whose output size depends on
values (``nonzero``, boolean-mask indexing, ``masked_select``, ``unique``, ``bincount``,
``repeat_interleave`` without ``output_size``) and value comparisons (``equal``, ``is_nonzero``).
On a GPU each of these waits for the device to finish its queue, so a training step that does
none lets the host run ahead. ``reads`` counts them by op, ``where`` gives the first place of each.
"""
from __future__ import annotations

import collections
import traceback

import torch
from torch.utils._python_dispatch import TorchDispatchMode

SYNCING_OPS = frozenset({"_local_scalar_dense", "nonzero", "masked_select", "masked_scatter", "bincount", "unique",
                         "_unique", "_unique2", "unique_dim", "unique_consecutive", "equal", "is_nonzero", "allclose"})
INDEXING_OPS = frozenset({"index", "index_put", "index_put_", "_index_put_impl_"})


class HostReads(TorchDispatchMode):
    """Counts the host reads of the aten ops run inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: collections.Counter[str] = collections.Counter()
        self.where: dict[str, str] = {}

    def __enter__(self) -> HostReads:
        self._tolist = torch.Tensor.tolist  # reads on the host without dispatching an aten op
        recorder = self

        def tolist(tensor: torch.Tensor):
            recorder._record("tolist")
            return recorder._tolist(tensor)
        torch.Tensor.tolist = tolist
        return super().__enter__()

    def __exit__(self, *exc) -> None:
        torch.Tensor.tolist = self._tolist
        super().__exit__(*exc)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func._schema.name.split("::")[-1]
        if name in SYNCING_OPS:
            self._record(name)
        elif name in INDEXING_OPS and any(isinstance(t, torch.Tensor) and t.dtype == torch.bool for t in args[1] or ()):
            self._record(f"{name} with a boolean mask")
        elif name == "repeat_interleave" and len(args) == 1 and kwargs.get("output_size") is None:
            self._record("repeat_interleave without output_size")
        return func(*args, **kwargs)

    def _record(self, what: str) -> None:
        self.reads[what] += 1
        if what not in self.where:
            frames = [frame for frame in traceback.extract_stack() if "/graphformers/" in frame.filename
                      and "/tests/" not in frame.filename]
            self.where[what] = " <- ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in reversed(frames[-3:]))

    def report(self) -> str:
        return "; ".join(f"{what} x{count} at {self.where[what]}" for what, count in self.reads.items())

"""The runs of a multi-run trained side by side (``--jobs N``): each in its own process, on its share
of the CPUs. A small model's step gains less than N times from N times the threads, so N runs of
``C / N`` threads each then finish a multi-run sooner than N runs of ``C`` threads one after another.

Each run's process writes its console output to ``<run folder>/output.log`` and keeps its own row of
the ledger current (:func:`~graphformers.results.summary.save_record`, under the ledger's lock); this
process starts the runs, prints one line as each ends, and passes a stop on. Ctrl-C or SIGTERM here
sends SIGTERM to every run (each keeps ``interrupted.ckpt`` and its ``last.ckpt``, as a single run
does) and ends with the line that says how to continue (``--resume``). A run whose process dies
(killed, out of memory) is recorded as failed with its exit code; the others go on.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphformers.parallel import available_cpus

if TYPE_CHECKING:
    from graphformers.recipe import Recipe
    from graphformers.results.summary import RunRecord


@dataclass
class PlannedRun:
    """One run of a multi-run, ready to train: its recipe, the checkpoint it continues from (None:
    a fresh run), its folder, its ledger row and the wall time of its earlier parts."""

    recipe: Recipe
    resume_from: str | None
    run_dir: Path
    record: RunRecord
    earlier: float


OUTPUT_LOG = "output.log"
"""A side-by-side run's console output, in its run folder."""

POLL_SECONDS = 1.0
"""How often the waiting process looks for runs whose process died without a word."""


def run_in_processes(todo: Sequence[tuple[int, int, int | None]], begin: Callable[[int, int, int | None], PlannedRun],
                     train: Callable[[PlannedRun, Path], RunRecord], conclude: Callable[[int, RunRecord], None],
                     jobs: int, ledger: Path) -> None:
    """Train ``todo``'s runs ``jobs`` at a time, each in a spawned process with ``available CPUs // jobs``
    torch threads.

    Args:
        todo (sequence): ``(number, seed, split)`` of each run left, in order.
        begin (callable): ``begin(number, seed, split)`` plans a run and marks it running in the ledger.
        train (callable): ``train(planned, ledger)`` trains it in its process and returns its row; a
            module-level function (the spawned process receives it by name).
        conclude (callable): ``conclude(number, record)`` stores and reports an ended run.
        jobs (int): runs at once.
        ledger (Path): the multi-run's ``summary.csv``.
    """
    from graphformers.recipe import RecipeError
    from graphformers.training.runner import TrainingInterrupted

    context = multiprocessing.get_context("spawn")  # a fork of a process whose OpenMP pool ran can hang
    reports: Any = context.Queue()
    threads = max(1, available_cpus() // jobs)
    waiting = list(todo)
    running: dict[int, tuple[Any, PlannedRun]] = {}
    stopped: list[bool] = []
    interrupted: list[int] = []
    refused: list[str] = []

    def stop(*_: object) -> None:
        if not stopped:
            stopped.append(True)
            waiting.clear()
            for process, _planned in running.values():
                if process.is_alive():
                    os.kill(process.pid, signal.SIGTERM)  # each run saves interrupted.ckpt and reports

    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGTERM, stop)
    if handlers[signal.SIGINT] is not signal.SIG_IGN:  # ignored (nohup, a background job): stays ignored
        signal.signal(signal.SIGINT, stop)
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                number, seed, split = waiting.pop(0)
                planned = begin(number, seed, split)
                process = context.Process(target=_train_in_process, name=f"graphformers-run-{number}",
                                          args=(number, planned, train, threads, ledger, reports))
                process.start()
                running[number] = (process, planned)
            try:
                number, outcome, detail = reports.get(timeout=POLL_SECONDS)
            except queue.Empty:
                _collect_the_dead(running, stopped, reports, conclude)
                continue
            running.pop(number)[0].join()
            if outcome == "ended":
                conclude(number, detail)
            elif outcome == "interrupted":
                interrupted.append(number)
            else:  # a recipe error: every run would meet it
                refused.append(detail)
                stop()
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    if refused:
        raise RecipeError(refused[0])
    if stopped or interrupted:
        raise TrainingInterrupted(f"the multi-run was stopped; each run it was training kept interrupted.ckpt "
                                  f"and last.ckpt in its folder. Continue with the same command and --resume "
                                  f"(and --jobs {jobs}): finished runs are kept, the others go on from their "
                                  f"last.ckpt.")


def _collect_the_dead(running: dict[int, tuple[Any, PlannedRun]], stopped: list[bool], reports: Any,
                      conclude: Callable[[int, RunRecord], None]) -> None:
    """Record as failed each run whose process ended without reporting (killed, out of memory); after a
    stop, such runs (stopped before training began) stay running in the ledger, for ``--resume``."""
    for number, (process, planned) in list(running.items()):
        if process.is_alive() or not reports.empty():  # a report may still be on its way
            continue
        del running[number]
        if not stopped:
            record = planned.record
            record.status, record.error = "failed", _death(process.exitcode)
            conclude(number, record)


def _train_in_process(number: int, planned: PlannedRun, train: Callable[[PlannedRun, Path], RunRecord], threads: int,
                      ledger: Path, reports: Any) -> None:
    """A run's process: its share of the threads, its output to ``output.log``, its ledger row kept
    current; puts ``(number, outcome, detail)`` once: ``ended`` with the record, ``interrupted``, or
    ``recipe`` with the error's message."""
    import torch

    from graphformers.recipe import RecipeError
    from graphformers.recipe.loading import import_user_modules
    from graphformers.training.runner import TrainingInterrupted

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a stop comes as SIGTERM from the multi-run's process
    torch.set_num_threads(threads)
    log = open(planned.run_dir / OUTPUT_LOG, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (the process's life)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
    try:
        import_user_modules(planned.recipe.imports)  # plugin parts the recipe names (spawned: nothing imported)
        record = train(planned, ledger)
    except RecipeError as error:
        print(f"error: {error}", flush=True)
        reports.put((number, "recipe", str(error)))
    except TrainingInterrupted as error:
        print(f"error: {error}", flush=True)
        reports.put((number, "interrupted", None))
    else:
        reports.put((number, "ended", record))


def _death(exitcode: int | None) -> str:
    """Why a run's process ended without reporting."""
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        hint = " (the kernel's out-of-memory killer sends SIGKILL)" if name == "SIGKILL" else ""
        return f"its process was killed by {name}{hint}"
    return f"its process ended with exit code {exitcode} before reporting; see its {OUTPUT_LOG}"

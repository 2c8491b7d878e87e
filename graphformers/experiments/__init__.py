"""Experiments over training runs: one recipe over seeds or splits (:mod:`~graphformers.experiments.multirun`)
and hyperparameter searches (:mod:`~graphformers.experiments.sweeps` over a
:mod:`~graphformers.experiments.search_space`); their results are summarised by :mod:`graphformers.results`."""

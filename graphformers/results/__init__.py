"""Results: multi-run summaries (mean ± sample std beside the published number) and the
reproduction table of ``recipes/README.md``, generated from the recipes and their summaries."""

"""What many test files share: the repository's paths, small quickstart runs, and the one-error-line
check of the command line (import the modules: ``from helpers.runs import small_quickstart``)."""

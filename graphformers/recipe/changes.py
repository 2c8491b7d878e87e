"""Which settings of a saved recipe the current one sets otherwise (a resumed run, a ledger of
seeds and the results table each compare the recipe they are given with the one their runs had)."""
from __future__ import annotations

from typing import Any


def changed_settings(current: Any, saved: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """``(key, current value, saved value)`` for each setting of a saved recipe (the ``recipe.yaml``
    beside a ledger) that the current recipe sets otherwise. Keys the saved recipe lacks were added
    to the schema after it was written (its runs had their defaults) and are not compared.

    Args:
        current (dict): the recipe now, as plain data.
        saved (dict): the recipe as the runs had it.
        prefix (str, optional): dotted key of the parts compared, for recursion.
    """
    if isinstance(current, dict) and isinstance(saved, dict):
        return [change for key in sorted(saved, key=str)
                for change in changed_settings(current.get(key), saved[key], f"{prefix}{key}.")]
    return [] if current == saved else [(prefix.rstrip("."), current, saved)]

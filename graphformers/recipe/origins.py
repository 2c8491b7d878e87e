"""Where each recipe key was set: a file of the ``extends`` chain, a command-line override, or the defaults."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def record_origins(raw: Mapping[str, Any], prefix: str, origin: str, origins: dict[str, str]) -> None:
    """Note ``origin`` for every key of ``raw`` and of its sections (``model.hidden``), in place."""
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        origins[dotted] = origin
        if isinstance(value, dict) and dotted.count(".") < 1:
            record_origins(value, dotted + ".", origin, origins)


def source(origins: Mapping[str, str], dotted: str) -> str:
    """The file (or override) that set ``dotted`` or its closest enclosing key."""
    dotted = dotted.split("[", 1)[0]
    while dotted:
        if dotted in origins:
            return origins[dotted]
        dotted = dotted.rpartition(".")[0]
    return "recipe defaults"

"""The base of every error whose message already says what is wrong and how to fix it."""
from __future__ import annotations


class GraphformersError(Exception):
    """An error meant for the user: the command line prints its message as one ``error:`` line."""


class PartOptionError(GraphformersError, ValueError):
    """A part's constructor options that cannot work together; raised by the part itself, so the
    rule holds whether the part comes from a recipe or is built by hand."""


class GraphTooLargeError(GraphformersError, ValueError):
    """A graph too large for the chosen mixer or model; the message gives the estimate and the alternatives."""


def first_line(error: BaseException) -> str:
    """The first line of ``error``'s message (its type's name when it has none), to quote a library's
    error inside one of ours."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def check_heads_divide(hidden: int, heads: int, part: str) -> None:
    """Raise :class:`PartOptionError` unless ``heads`` splits ``hidden`` into equal head widths.

    The one place this rule lives (mixers, GAT and Polynormer's attention all split ``hidden``).

    Args:
        hidden (int): feature width to split.
        heads (int): number of heads.
        part (str): the part's name, for the message.
    """
    if heads < 1 or hidden % heads:
        raise PartOptionError(f"{part}: hidden ({hidden}) must be divisible by heads ({heads}); "
                              f"change model.hidden or the heads.")


def check_positive(value: int, option: str) -> None:
    """Raise :class:`PartOptionError` unless the whole number ``value`` is at least 1.

    Args:
        value (int): the option's value.
        option (str): the part and option, for the message (``"gine's expansion"``).
    """
    if value < 1:
        raise PartOptionError(f"{option} must be at least 1, got {value}.")

"""The base of every error whose message already says what is wrong and how to fix it."""
from __future__ import annotations


class GraphformersError(Exception):
    """An error meant for the user: the command line prints its message as one ``error:`` line."""

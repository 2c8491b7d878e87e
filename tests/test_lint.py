"""ruff's rules (ruff.toml: pycodestyle errors E, pyflakes F, import order I, bugbear B, pyupgrade
UP, at 120 columns) hold over the package and the tests. The command is docs/architecture.md's."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUFF = [sys.executable, "-m", "ruff", "check", "graphformers", "tests"]


def test_the_code_passes_ruff():
    done = subprocess.run(RUFF, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr

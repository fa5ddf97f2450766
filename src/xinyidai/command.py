"""The ``xyd`` command's entry point: the command line, and one clear line instead of a
traceback when the node's set-up is wrong (its database address, a driver, a setting).

It sits outside ``xinyidai.cli`` because loading that package already reads the settings
and may reach the database; a mistake there must be explained too.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from xinyidai.cli import main as run

        run()
    except Exception as exc:
        from xinyidai.cli.common import explain_setup_error

        explained = explain_setup_error(exc)
        if explained is None:
            raise
        print(f"error: {explained}", file=sys.stderr)
        raise SystemExit(2) from None

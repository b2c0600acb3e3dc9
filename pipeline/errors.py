"""The failures a user can fix, shared by the CLI, the web application and the flows.

Light on purpose (no third-party import): every `gongwen` start may load it.
"""

from __future__ import annotations


class CommandError(Exception):
    """A refusal or a usage error, reported as one line with `exit_code` (docs/cli.md#exit-codes: 1 refused, 2 usage).

    The CLI prints it in one place (pipeline/cli.py, one_line_error), adding `note` in parentheses;
    the web application shows the message alone.
    """

    exit_code: int = 1
    note: str = ""

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

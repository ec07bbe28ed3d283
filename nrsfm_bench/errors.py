"""User-facing errors: each one prints as a single line naming the input, the field and what was expected."""
from __future__ import annotations


class NrsfmError(Exception):
    """Base class of every error the CLI reports as one line (no traceback).

    `exit_code` is the process status the CLI returns for it.
    """

    exit_code = 1


class UsageError(NrsfmError):
    """A command line that cannot be carried out: unknown names, malformed `--param`, bad options."""

    exit_code = 2


class UnknownNameError(UsageError):
    """A method, dataset or preset name that is not registered; the message lists the closest valid names."""


class InputError(NrsfmError):
    """Input data that is mis-shaped, non-finite or otherwise not what a method can run on."""


class DataFormatError(InputError):
    """A data file that cannot be read as the published format it claims to be."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class DataNotFoundError(NrsfmError):
    """A dataset whose files are not under the data root; the message says where it looked and what to get."""


class MethodFailure(NrsfmError):
    """A method that stopped on purpose (e.g. it would need more memory than allowed) with a clear reason."""

"""What an operator can get wrong, or find broken, said in one line with a documented exit code.

Every error here is the operator's to act on (a setting, the database, a key), never a bug:
the command line prints ``eport-ledger: <message>`` and exits with ``exit_code``, without a
traceback (``--debug`` shows one). The codes are listed in docs/operations.md ("Exit codes").
"""

from __future__ import annotations


class OperatorError(Exception):
    """A problem the operator must fix; its message is one line that names the cause."""

    exit_code = 70  # EX_SOFTWARE: subclasses say better

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # always one line

    @property
    def message(self) -> str:
        """The one line."""
        return str(self.args[0])


class ConfigurationError(OperatorError):
    """A setting is wrong: an environment value, the database URL, a missing directory."""

    exit_code = 3


class DatabaseUnavailableError(OperatorError):
    """The database cannot be reached or refuses us (host, port, name, login, TLS)."""

    exit_code = 4


class LedgerStateError(OperatorError):
    """No ledger where the settings point, or one this release cannot use as it is."""

    exit_code = 5


class SigningKeyError(OperatorError):
    """The checkpoint signing key is missing, unreadable, or not the ledger's last signer."""

    exit_code = 6

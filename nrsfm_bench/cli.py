"""The `nrsfm-bench` command line: builds the parser from `nrsfm_bench.commands` and reports errors in one line."""
from __future__ import annotations

import argparse
import importlib
import sys

from nrsfm_bench.errors import NrsfmError

# one module per subcommand group in nrsfm_bench/commands/, each with add_parsers(subparsers)
COMMAND_MODULES = ("run", "reconstruct", "sweep", "listing", "report", "check")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nrsfm-bench",
                     description="Benchmark Non-Rigid Structure-from-Motion methods on shared data with one evaluator.")
    parser.add_argument("--debug", action="store_true", help="show a traceback on unexpected errors")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(f"nrsfm_bench.commands.{name}").add_parsers(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except NrsfmError as error:
        print(f"nrsfm-bench: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("nrsfm-bench: interrupted; nothing was written to the results store "
              "(methods that checkpoint continue with --resume)", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - the CLI never shows a bare traceback unless asked
        if args.debug:
            raise
        print(f"nrsfm-bench: internal error: {type(error).__name__}: {error} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

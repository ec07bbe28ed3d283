"""Subcommands of `nrsfm-bench`, one module per group; each defines `add_parsers(subparsers)`."""
from __future__ import annotations

import argparse


def add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="DIR",
                        help="results store folder (default: $NRSFM_BENCH_STORE, else ./nrsfm-results)")


def add_data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", metavar="DIR",
                        help="real data root (default: $NRSFM_BENCH_DATA, else ~/.local/share/nrsfm-bench)")

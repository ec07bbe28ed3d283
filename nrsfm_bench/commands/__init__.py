"""Subcommands of `nrsfm-bench`, one module per group; each defines `add_parsers(subparsers)`."""
from __future__ import annotations

import argparse

from nrsfm_bench.errors import UsageError
from nrsfm_bench.perturbations import Perturbation


def add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="DIR",
                        help="results store folder (default: $NRSFM_BENCH_STORE, else ./nrsfm-results)")


def add_data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", metavar="DIR",
                        help="real data root (default: $NRSFM_BENCH_DATA, else ~/.local/share/nrsfm-bench)")


def add_perturbation_options(parser: argparse.ArgumentParser) -> None:
    """`--noise`, `--missing`, `--occlusion` (+ block size) and `--train-fraction` (one value each)."""
    group = parser.add_argument_group("perturbations (seeded by --seed; recorded with the run)")
    group.add_argument("--noise", type=float, default=0.0, help="Gaussian noise ratio ‖noise‖/‖W‖ to add")
    group.add_argument("--missing", type=float, default=0.0, help="fraction of points to hide at random")
    group.add_argument("--occlusion", type=float, default=0.0,
                       help="fraction of points to hide in occlusion-like blocks (consecutive frames × "
                            "neighbouring points, along the skeleton where known)")
    group.add_argument("--occlusion-frames", type=int, default=Perturbation.occlusion_frames,
                       help=f"frames per occlusion block (default {Perturbation.occlusion_frames})")
    group.add_argument("--occlusion-points", type=int, default=Perturbation.occlusion_points,
                       help=f"points per occlusion block (default {Perturbation.occlusion_points})")
    group.add_argument("--train-fraction", type=float, default=1.0,
                       help="inductive methods train on this fraction of the training frames")


def perturbation_from_args(args: argparse.Namespace) -> Perturbation:
    """The Perturbation the options of `add_perturbation_options` describe (UsageError when out of range)."""
    try:
        return Perturbation(noise=args.noise, missing=args.missing, train_fraction=args.train_fraction,
                            occlusion=args.occlusion, occlusion_frames=args.occlusion_frames,
                            occlusion_points=args.occlusion_points)
    except ValueError as error:
        raise UsageError(str(error)) from None

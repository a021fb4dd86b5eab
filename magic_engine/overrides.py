"""The --set FIELD=VALUE option that the synthesize, demo and evaluate commands
share: any MagicConfig field can be overridden from the command line."""

from __future__ import annotations

import argparse
import ast

from .errors import ConfigError


def add_set_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", dest="overrides",
                        help="override any MagicConfig field, e.g. --set mask_net_width=64 (repeatable)")


def parse_overrides(items) -> dict:
    """["a=1", "b=fp32", "c=(0.5, 0.9)"] -> {"a": 1, "b": "fp32", "c": (0.5, 0.9)}."""
    overrides = {}
    for item in items or ():
        field, sep, text = item.partition("=")
        if not sep or not field.strip():
            raise ConfigError(f"--set takes FIELD=VALUE, got {item!r}")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text  # a bare word such as fp32 or upfront
        overrides[field.strip()] = value
    return overrides

"""The ``taskcraft`` command line."""

from cli.app import build_parser, main

__all__ = ["build_parser", "main"]

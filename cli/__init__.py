"""The ``taskcraft`` command line."""

from cli.app import main
from cli.parser import build_parser

__all__ = ["build_parser", "main"]

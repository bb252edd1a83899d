"""kz-election-2023: extract -> validate -> publish pipeline for the 2023 Kazakh legislative election."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

"""Shared pieces for MTA detectors: failed-recipient headers and the free-text scan."""

from __future__ import annotations

import re

from ...model import Result
from .. import message as m
from .. import text


def failed_recipients(ctx) -> list[str]:
    """X-Failed-Recipients (Exim, Gmail, GMX, many appliances)."""
    return m.addresses(ctx.header("X-Failed-Recipients"))


def scan(ctx, name: str, start: re.Pattern[str] | None = None,
         end: re.Pattern[str] | None = None, only: list[str] | None = None) -> list[Result]:
    lines = text.error_section(ctx.body, start=start, end=end)
    return text.scan(lines, ctx.exclude, only=only, detector=name) or (
        text.scan(lines, ctx.from_exclude, only=only, detector=name) if only is None else [])

"""The errors of a bad setting: each message names the setting, its value,
where it came from and the fix."""

from __future__ import annotations


class SettingError(ValueError):
    """A setting has a bad value; the message names setting, value and source."""


class SettingTextError(SettingError):
    """Text that is no value of the setting's type at all (``'abc'`` for a
    count). ``reason`` says why without the source: argparse names the option
    itself."""

    reason: str = ""

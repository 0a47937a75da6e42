"""MkDocs hook: the settings reference, written from the code's own tables.

``settings.md`` holds the line ``<!-- settings-reference: ... -->``; at build
time it is replaced by two tables made from the settings table (``SPECS``:
each per-search setting's default and help) and the options table
(``OPTIONS``: each ``--hptune-*`` option, its ini key and help). A setting or
option added to the code appears in the site at the next build; one dropped
disappears. Nothing heavy is imported (no Keras): the two tables load with
the plugin.

``tests/test_docs.py`` imports this file to check that every row is listed.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "<!-- settings-reference:"

# The site describes this checkout's code, whatever else is installed.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pytest_hptune import options  # noqa: E402  (the options table)
from pytest_hptune.settings import SPECS  # noqa: E402  (the settings table: its one import here)


def cell(text: Any) -> str:
    """Text for a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def code(text: str) -> str:
    return f"`{text}`".replace("|", "\\|")


def shown_default(name: str, default: Any) -> str:
    row = options.BY_SETTING.get(name)
    if default is None:
        return cell(row.default) if row and row.default else "none"
    return code(repr(default))


def settings_table(specs: Mapping[str, Any], rows_by_setting: Mapping[str, Any]) -> str:
    lines = [
        "| setting (marker, `hptune.search()`) | default | command line | ini key | what |",
        "|---|---|---|---|---|",
    ]
    for name, spec in specs.items():
        row = rows_by_setting.get(name)
        flag = code(f"{row.flag}={row.metavar}") if row else ""
        ini = code(row.ini) if row else ""
        lines.append(f"| {code(name)} | {shown_default(name, spec.default)} | {flag} | {ini} | {cell(spec.help)} |")
    return "\n".join(lines)


def options_table(rows: tuple[Any, ...]) -> str:
    lines = ["| command line | ini key | default | what |", "|---|---|---|---|"]
    for row in rows:
        if row.setting:
            continue
        if row.kind == options.FLAG:
            flag = row.flag
        elif row.kind == options.OPTIONAL_PATH:
            flag = f"{row.flag}[={row.metavar}]"
        else:
            flag = f"{row.flag}={row.metavar}"
        default = cell(row.default) if row.default else "off" if row.kind == options.FLAG else "none"
        lines.append(f"| {code(flag)} | {code(row.ini)} | {default} | {cell(row.about)} |")
    return "\n".join(lines)


def reference() -> str:
    """The Markdown that replaces the placeholder."""
    return (
        "### Per-search settings\n\n"
        "Set by the marker, `hptune.search()` keywords, and where a row names them, "
        "the command line and the ini file.\n\n"
        + settings_table(SPECS, options.BY_SETTING)
        + "\n\n### Session options\n\n"
        "Command-line options (and ini keys) that are not per-search settings.\n\n"
        + options_table(options.OPTIONS)
        + "\n"
    )


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if page.file.src_uri != "settings.md":
        return markdown
    lines = markdown.split("\n")
    at = [i for i, line in enumerate(lines) if line.startswith(PLACEHOLDER)]
    if len(at) != 1:
        raise ValueError(f"settings.md must hold one line starting with {PLACEHOLDER!r}, found {len(at)}")
    lines[at[0]] = reference()
    return "\n".join(lines)

"""Copy README.md's sections into the documentation pages.

Each page in ``docs/`` holds one or more blocks::

    <!-- README: "Faults" h1 -->
    ...the section's text, copied by this script...
    <!-- /README -->

The quoted text names a README heading: its exact text, or a prefix that
names one heading alone. The block receives that heading and everything under
it up to the next heading of the same or a higher level. Options after the
quotes:

* ``h1`` (``h2``, ...): the heading becomes the page's ``#`` title (a ``##``
  heading, ...) and its subheadings move as many levels;
* ``shallow``: stop at the first subheading (another block takes those);
* ``"(intro)"`` instead of a heading: the text before the first ``##``.

The script moves text, it does not rewrite it, except where MkDocs needs it:

* ``(#anchor)`` links (GitHub's anchors of README headings) point at the page
  and anchor that MkDocs gives the heading;
* nested list items indented by 2 spaces (GitHub) are indented by 4
  (Python-Markdown), fenced code inside them too.

Usage (from the repository root, any Python 3.10+, nothing to install)::

    python docs/sync_from_readme.py          # rewrite the pages' blocks
    python docs/sync_from_readme.py --check  # exit 1 if a page is stale
    python docs/sync_from_readme.py --detach # drop the block markers, keep the text

``--detach`` is for the day the short README replaces the long one: the pages
then become the source, and this script and tests/test_docs_sync.py go.

Both list the ``##``/``###`` README sections no page takes, and fail on a
block whose heading is gone.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
INTRO = "(intro)"
# Sections of the README that stay there only (the README's own matter).
NOT_IN_DOCS: set[str] = set()

BLOCK = re.compile(
    r'^<!-- README: "(?P<name>[^"]+)"(?P<opts>[^>]*?)-->\n(?P<body>.*?)^<!-- /README -->$',
    flags=re.S | re.M,
)
HEADING = re.compile(r"^(#{1,6}) (.+?)\s*$")
FENCE = re.compile(r"^(\s*)(```+|~~~+)")
LIST_ITEM = re.compile(r"^(\*|-|\+|\d+\.) ")
LINK = re.compile(r"\]\(#([^)\s]+)\)")


@dataclass
class Heading:
    line: int  # index in the README's lines
    level: int
    text: str

    @property
    def github_slug(self) -> str:
        return github_slug(self.text)

    @property
    def mkdocs_slug(self) -> str:
        return mkdocs_slug(self.text)


def plain(text: str) -> str:
    """A heading's text as the slug functions see it: code spans, links, emphasis stripped."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return text.replace("`", "").replace("**", "")


def github_slug(text: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, each space a hyphen."""
    text = plain(text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def mkdocs_slug(text: str) -> str:
    """Python-Markdown's ``toc`` slugify (MkDocs' default): runs of spaces and hyphens collapse."""
    text = unicodedata.normalize("NFKD", plain(text)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def headings(lines: list[str]) -> list[Heading]:
    found, fenced = [], False
    for i, line in enumerate(lines):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and (match := HEADING.match(line)):
            found.append(Heading(i, len(match.group(1)), match.group(2)))
    return found


def find(name: str, all_headings: list[Heading]) -> Heading:
    exact = [h for h in all_headings if h.text == name]
    if len(exact) == 1:
        return exact[0]
    prefixed = [h for h in all_headings if h.text.startswith(name)]
    if len(exact) > 1 or len(prefixed) != 1:
        names = [h.text for h in (exact or prefixed)] or "none"
        raise SystemExit(f"README heading {name!r}: expected one, found {names}")
    return prefixed[0]


def section(name: str, opts: str, lines: list[str], all_headings: list[Heading]) -> tuple[list[str], list[Heading]]:
    """The README lines of a block, and the headings in them."""
    if name == INTRO:
        end = next(h.line for h in all_headings if h.level >= 2)
        return lines[:end], [h for h in all_headings if h.line < end]
    start = find(name, all_headings)
    after = [h for h in all_headings if h.line > start.line]
    stop = next(
        (h.line for h in after if h.level <= start.level or "shallow" in opts),
        len(lines),
    )
    taken = [h for h in all_headings if start.line <= h.line < stop]
    body = lines[start.line : stop]
    if level := re.search(r"\bh([1-6])\b", opts):
        shift = start.level - int(level.group(1))
        for h in taken:
            body[h.line - start.line] = "#" * (h.level - shift) + " " + h.text
    return body, taken


def reindent_lists(lines: list[str]) -> list[str]:
    """Double the indentation inside lists: GitHub nests at 2 spaces, Python-Markdown at 4."""
    out: list[str] = []
    in_list = False
    fence: tuple[str, int] | None = None  # (its marker, the spaces added to its lines) inside a fence
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        if fence is not None:
            marker, extra = fence
            out.append(" " * extra + line if line.strip() else line)
            if re.fullmatch(re.escape(marker[0]) + f"{{{len(marker)},}}", line.strip()):
                fence = None
            continue
        if LIST_ITEM.match(line):
            in_list = True
        elif line.strip() and indent == 0:
            in_list = False
        extra = indent if in_list else 0
        if match := FENCE.match(line):
            fence = (match.group(2), extra)
        out.append(" " * extra + line)
    return out


def page_of(all_blocks: dict[Path, list[Heading]]) -> dict[str, tuple[Path, str]]:
    """GitHub anchor -> (page, MkDocs anchor), for every heading a page takes."""
    anchors: dict[str, tuple[Path, str]] = {}
    for page, taken in all_blocks.items():
        for h in taken:
            anchors.setdefault(h.github_slug, (page, h.mkdocs_slug))
    return anchors


def relink(text: str, page: Path, anchors: dict[str, tuple[Path, str]]) -> str:
    def target(match: re.Match[str]) -> str:
        found = anchors.get(match.group(1))
        if found is None:  # left as is: mkdocs build --strict reports it
            print(f"{page.name}: no page takes the README anchor #{match.group(1)}", file=sys.stderr)
            return match.group(0)
        where, anchor = found
        return f"](#{anchor})" if where == page else f"]({where.relative_to(page.parent).as_posix()}#{anchor})"

    return LINK.sub(target, text)


def sync(check: bool) -> int:
    lines = README.read_text(encoding="utf-8").split("\n")
    all_headings = headings(lines)
    pages = sorted(p for p in DOCS.rglob("*.md") if BLOCK.search(p.read_text(encoding="utf-8")))
    texts = {p: p.read_text(encoding="utf-8") for p in pages}
    taken: dict[Path, list[Heading]] = {}
    bodies: dict[tuple[Path, int], str] = {}
    for page, text in texts.items():
        taken[page] = []
        for n, block in enumerate(BLOCK.finditer(text)):
            body, in_it = section(block["name"], block["opts"], lines, all_headings)
            taken[page] += in_it
            bodies[page, n] = "\n".join(reindent_lists(body)).strip("\n") + "\n"
    anchors = page_of(taken)
    stale = []
    for page, text in texts.items():
        numbers = iter(range(len(bodies)))

        def fill(block: re.Match[str], page: Path = page, numbers: Iterator[int] = numbers) -> str:
            head = block.group(0)[: block.start("body") - block.start()]
            return head + relink(bodies[page, next(numbers)], page, anchors) + "<!-- /README -->"

        new = BLOCK.sub(fill, text)
        if new != text:
            stale.append(page)
            if not check:
                page.write_text(new, encoding="utf-8")
    used = {id(h) for hs in taken.values() for h in hs}
    left = [h.text for h in all_headings if h.level in (2, 3) and id(h) not in used and h.text not in NOT_IN_DOCS]
    for name in left:
        print(f"README section {name!r} is on no page: add a block for it", file=sys.stderr)
    for page in stale:
        print(f"{page.relative_to(ROOT)}: {'stale' if check else 'updated'}", file=sys.stderr)
    return 1 if left or (check and stale) else 0


def detach() -> int:
    """Remove the block markers from every page, keeping the text between them."""
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        new = BLOCK.sub(lambda block: block["body"].rstrip("\n"), text)
        if new != text:
            page.write_text(new, encoding="utf-8")
            print(f"{page.relative_to(ROOT)}: detached", file=sys.stderr)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a page is stale")
    parser.add_argument("--detach", action="store_true", help="remove the block markers, keep the text")
    args = parser.parse_args()
    return detach() if args.detach else sync(args.check)


if __name__ == "__main__":
    sys.exit(main())

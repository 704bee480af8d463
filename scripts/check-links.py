#!/usr/bin/env python3
"""Checks the documentation's relative links and images.

Every relative link and image in README.md, ARCHITECTURE.md,
CONTRIBUTING.md, BENCHMARKS.md, docs/*.md and screenshots/README.md must
name a file that exists, and every #anchor (in the same file, or
file.md#anchor) must match a heading of its target, slugged as GitHub does:
lowercase, punctuation dropped except - and _, spaces turned into -, a
repeated heading getting -1, -2, ...

Links with a scheme (http:, https:, mailto:, ...) are not followed, and
nothing inside fenced code blocks or `code spans` counts as a link.

Prints each broken link as `file:line: link` and exits 1 if there is one;
otherwise prints `links: N checked, all resolve`. Python 3 standard library
only; run from anywhere: ./scripts/check-links.py
"""

import re
import sys
import unicodedata
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["README.md", "ARCHITECTURE.md", "CONTRIBUTING.md", "BENCHMARKS.md", "docs/*.md", "screenshots/README.md"]

FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# [text](target "title") and ![alt](target): the target may hold one level
# of balanced parentheses, or be written <like this>.
INLINE = re.compile(r"\]\(\s*(<[^>]*>|(?:[^()\s]|\([^()\s]*\))*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML = re.compile(r"""<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
HTML_ANCHOR = re.compile(r"""<[a-z]+\b[^>]*?\b(?:id|name)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
ATX = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def lines_outside_code(text, blank_code_spans=True):
    """(line number, line) of every line outside fenced code blocks, with
    code spans blanked out (their length kept, so nothing shifts) unless
    asked to keep them (headings: their code is part of the anchor)."""
    fence = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if fence is None:
            if match:
                fence = match.group(1)
                continue
        else:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) and not line.strip()[len(match.group(1)):].strip():
                fence = None
            continue
        yield number, CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line) if blank_code_spans else line


def heading_text(raw):
    """A heading's text as GitHub renders it, before slugging."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", raw)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    return text


def slug(text):
    """GitHub's heading anchor: lowercase, keep letters, marks, digits, _
    and -, spaces become -, everything else is dropped."""
    out = []
    for ch in heading_text(text).strip().lower():
        if ch == " ":
            out.append("-")
        elif ch in "-_" or unicodedata.category(ch)[0] in "LMN":
            out.append(ch)
    return "".join(out)


_anchors = {}


def anchors(path):
    """Every anchor a Markdown file offers: its headings' slugs (repeats
    numbered as GitHub numbers them) and explicit id/name attributes."""
    if path not in _anchors:
        found = set()
        seen = {}
        previous = None
        for _, line in lines_outside_code(path.read_text(encoding="utf-8"), blank_code_spans=False):
            heading = None
            match = ATX.match(line)
            if match:
                heading = match.group(2)
            elif previous is not None and previous.strip() and SETEXT.match(line) and not ATX.match(previous):
                heading = previous.strip()
            if heading is not None:
                base = slug(heading)
                count = seen.get(base, 0)
                seen[base] = count + 1
                found.add(base if count == 0 else f"{base}-{count}")
            found.update(HTML_ANCHOR.findall(line))
            previous = line
        _anchors[path] = found
    return _anchors[path]


def targets(line):
    for match in INLINE.finditer(line):
        yield match.group(1)
    match = REFERENCE.match(line)
    if match:
        yield match.group(1)
    yield from HTML.findall(line)


def check(page):
    """(number checked, [broken 'file:line: link'])."""
    checked, broken = 0, []
    for number, line in lines_outside_code(page.read_text(encoding="utf-8")):
        for link in targets(line):
            link = link.strip()
            if link.startswith("<") and link.endswith(">"):
                link = link[1:-1].strip()
            if not link or SCHEME.match(link) or link.startswith("//"):
                continue
            checked += 1
            path_part, _, anchor = link.partition("#")
            target = page if not path_part else (page.parent / unquote(path_part)).resolve()
            ok = target.exists()
            if ok and anchor and target.is_file() and target.suffix.lower() == ".md":
                ok = unquote(anchor) in anchors(target)
            if not ok:
                broken.append(f"{page.relative_to(ROOT)}:{number}: {link}")
    return checked, broken


def main():
    pages = []
    for pattern in PAGES:
        pages.extend(sorted(ROOT.glob(pattern)))
    checked, broken = 0, []
    for page in pages:
        n, bad = check(page)
        checked += n
        broken.extend(bad)
    for line in broken:
        print(line)
    if broken:
        print(f"links: {checked} checked, {len(broken)} broken")
        return 1
    print(f"links: {checked} checked, all resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main())

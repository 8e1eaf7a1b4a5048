#!/usr/bin/env python3
"""Fails when a relative link of a Markdown file in the repository points at nothing.

  check_links.py [ROOT]     # ROOT defaults to this repository

Reads every Markdown file git tracks or would track (new, not ignored). A link fails when its
file or directory is not in the repository, when its #anchor matches no heading of the target
(GitHub's anchor rules) and no <a id="..."> or <a name="..."> there, or when a reference-style
link names an undefined label. Links with a scheme (https:, mailto:, ...) and links inside code
blocks, inline code and HTML comments are not checked. Prints `file:line: problem` for each and
exits 1 when there is any.
"""
import html
import pathlib
import posixpath
import re
import subprocess
import sys
import unicodedata
import urllib.parse

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT_UNDERLINE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
NOT_A_PARAGRAPH = re.compile(r"^ {0,3}(?:[-+*>|]|\d+[.)]|#|<!--)|^\s*$")
# [text](dest "title"): dest in <...>, or without spaces, holding balanced parentheses.
INLINE_LINK = re.compile(
    r"(?<!\\)\]\(\s*(<[^>\n]*>|(?:[^\s()\\]|\\.|\([^\s()]*\))*)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[([^\]\n^][^\]\n]*)\]:[ \t]*(<[^>\n]*>|\S+)", re.M)
REFERENCE_USE = re.compile(r"(?<![\]\\])\[([^\]\n]+)\]\[([^\]\n]*)\]")
HTML_HREF = re.compile(r"<a\b[^>]*?\bhref\s*=\s*[\"']([^\"']+)[\"']", re.I)
HTML_ANCHOR = re.compile(r"<a\b[^>]*?\b(?:id|name)\s*=\s*[\"']([^\"']+)[\"']", re.I)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
SCHEME = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//)")
LINE_ANCHOR = re.compile(r"L\d+(?:C\d+)?(?:-L\d+(?:C\d+)?)?")


def blank(text):
    """Spaces for every character but newlines, so offsets and line numbers stay put."""
    return re.sub(r"[^\n]", " ", text)


def without_fences(text):
    """The text with fenced code blocks blanked out (an unclosed fence runs to the end)."""
    lines, fence = text.split("\n"), None
    for i, line in enumerate(lines):
        match = FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None:
            closing = re.match(r"^ {0,3}(" + re.escape(fence[0]) + r"{%d,})[ \t]*$" % len(fence), line)
            if closing:
                fence = None
        else:
            continue
        lines[i] = blank(line)
    return "\n".join(lines)


def code_spans(text):
    """(start, end) of each inline code span: a run of n backticks up to the next run of exactly
    n, within one paragraph."""
    spans, i = [], 0
    for run in re.finditer(r"(?<!\\)`+", text):
        if run.start() < i:
            continue
        closing = re.compile(r"(?<!`)" + "`" * len(run.group()) + r"(?!`)")
        end = closing.search(text, run.end())
        if end and "\n\n" not in text[run.end():end.start()]:
            spans.append((run.start(), end.end()))
            i = end.end()
    return spans


def outside_blocks(text):
    """The text with fenced code blocks, then HTML comments, blanked out."""
    return HTML_COMMENT.sub(lambda m: blank(m.group()), without_fences(text))


def prose(text):
    """What of a Markdown text can hold links: code and HTML comments blanked out."""
    text = outside_blocks(text)
    chars = list(text)
    for start, end in code_spans(text):
        chars[start:end] = blank(text[start:end])
    return "".join(chars)


def heading_texts(text):
    """The raw text of every ATX and setext heading outside code blocks, in order."""
    lines = outside_blocks(text).split("\n")
    for i, line in enumerate(lines):
        atx = ATX_HEADING.match(line)
        if atx:
            yield (atx.group(1) or "").strip()
        elif SETEXT_UNDERLINE.match(line):
            first = i
            while first and not NOT_A_PARAGRAPH.match(lines[first - 1]) \
                    and not ATX_HEADING.match(lines[first - 1]):
                first -= 1
            # A paragraph right after a list item or quote is its continuation, never a heading.
            before = lines[first - 1] if first else ""
            if first < i and (not before.strip() or ATX_HEADING.match(before)):
                yield " ".join(part.strip() for part in lines[first:i])


def rendered(heading):
    """A heading's text as GitHub renders it: code verbatim, link and emphasis markup gone."""
    parts, last = [], 0
    for start, end in code_spans(heading):
        parts.append(markup_removed(heading[last:start]))
        parts.append(heading[start:end].strip("`").strip())
        last = end
    parts.append(markup_removed(heading[last:]))
    return "".join(parts)


def markup_removed(text):
    text = re.sub(r"!?\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])", r"\1", text)
    text = HTML_TAG.sub("", text)
    text = re.sub(r"(?<!\w)(_+)(?=\S)(.+?)(?<=\S)\1(?!\w)", r"\2", text)  # _emphasis_, not snake_case
    text = re.sub(r"\\(.)", r"\1", text)
    return html.unescape(text)


def slug(text):
    """GitHub's anchor of a heading text: lowercase; letters, digits, marks, `-` and `_` kept,
    every other character dropped; each space a `-`."""
    kept = (c for c in text.lower() if c in "-_ " or unicodedata.category(c)[0] in "LNM")
    return "".join(kept).replace(" ", "-")


def anchors(text):
    """Every anchor of a Markdown document: its headings' slugs (a repeated slug gets -1, -2, ...)
    and its explicit <a id>/<a name> anchors."""
    found, seen = set(), {}
    for heading in heading_texts(text):
        base = candidate = slug(rendered(heading))
        while candidate in seen:
            seen[base] += 1
            candidate = f"{base}-{seen[base]}"
        seen[candidate] = 0
        found.add(candidate)
    found.update(HTML_ANCHOR.findall(HTML_COMMENT.sub("", without_fences(text))))
    return found


def links(text):
    """(line, destination) of every link of a Markdown text, and (line, problem) of every
    reference-style link whose label is not defined."""
    text = prose(text)

    def line_of(offset):
        return text.count("\n", 0, offset) + 1

    found = [(m.start(1), m.group(1)) for m in INLINE_LINK.finditer(text)]
    found += [(m.start(2), m.group(2)) for m in REFERENCE_DEFINITION.finditer(text)]
    found += [(m.start(1), m.group(1)) for m in HTML_HREF.finditer(text)]
    labels = {label_key(m.group(1)) for m in REFERENCE_DEFINITION.finditer(text)}
    undefined = [(line_of(m.start()), f"{m.group()}: reference label is not defined")
                 for m in REFERENCE_USE.finditer(text)
                 if label_key(m.group(2) or m.group(1)) not in labels]
    return [(line_of(start), destination) for start, destination in sorted(found)], undefined


def label_key(label):
    return " ".join(label.split()).casefold()


def repository_files(root):
    """Files git tracks or would track (new, not ignored) that exist in the working tree."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=root, check=True, capture_output=True, text=True).stdout
    return sorted({f for f in listed.split("\0") if f and (root / f).is_file()})


def check(root, sources=None):
    """Every broken link of the Markdown files of the repository at `root` (or of `sources`,
    paths relative to it), as `file:line: problem`."""
    root = pathlib.Path(root)
    files = repository_files(root)
    directories = {""}
    for f in files:
        parent = posixpath.dirname(f)
        while parent not in directories:
            directories.add(parent)
            parent = posixpath.dirname(parent)
    cache, problems = {}, []

    def anchors_of(path):
        if path not in cache:
            cache[path] = anchors((root / path).read_text(encoding="utf-8"))
        return cache[path]

    for source in sources or [f for f in files if f.lower().endswith(".md")]:
        found, here = links((root / source).read_text(encoding="utf-8"))
        here += [(line, f"{destination}: {why}") for line, destination in found
                 if (why := broken(source, destination.strip("<>"), files, directories, anchors_of))]
        problems += [f"{source}:{line}: {problem}" for line, problem in sorted(here, key=lambda p: p[0])]
    return problems


def broken(source, destination, files, directories, anchors_of):
    """Why `destination`, linked from `source`, points at nothing; None when it resolves."""
    if SCHEME.match(destination):
        return None
    path, _, anchor = destination.partition("#")
    path = urllib.parse.unquote(path.partition("?")[0])
    anchor = urllib.parse.unquote(anchor)
    if not path:
        target = source
    elif path.startswith("/"):
        target = posixpath.normpath(path.lstrip("/") or ".")
    else:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
    target = "" if target == "." else target
    if target == ".." or target.startswith("../"):
        return f"{path} is outside the repository"
    if target not in files and target not in directories:
        return f"{target or '.'} does not exist in the repository"
    if not anchor:
        return None
    if target.lower().endswith(".md") and target in files:
        if anchor in anchors_of(target):
            return None
        return f"{target} has no heading or anchor #{anchor}"
    if target in files and LINE_ANCHOR.fullmatch(anchor):
        return None
    return f"#{anchor} cannot be checked: {target or '.'} is not a Markdown file"


def main(argv):
    root = pathlib.Path(argv[1]) if len(argv) > 1 else pathlib.Path(__file__).resolve().parents[1]
    problems = check(root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"check_links: {len(problems)} broken link(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

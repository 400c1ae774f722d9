#!/usr/bin/env python3
"""Checks that every reference in the documentation and in code comments leads somewhere a
reader of this repository can open.

  check_references.py SOURCE_ROOT

Fails, listing each offence with its file and line, when
- a page or a comment points outside the repository (`shared/spec`, `../shared`), or at a
  Markdown file that exists nowhere in it (`modes.md`, say), looked up beside the citing file,
  at the root and in docs/;
- a page or a comment cites a bare letter-and-number rule code (`B6b`, `C1`, `W12`): rules are
  cited by their names in docs/decisions.md;
- a relative link of a Markdown page (inline `[text](target)` or a `[name]: target` definition)
  names a missing file, or an anchor that no heading of the target produces.

Comments are read per language (C and C++ `//` and `/* */`, Python comments and docstrings,
`#` in shell and meson files, `;;` in .wat files); string literals are not comments, so test
names and log texts are left alone.
"""
import ast
import io
import os
import re
import sys
import tokenize

ROOTS = ["docs", "lib", "include", "cli", "tests", "scripts", "bench", "templates", "examples",
         ".ci"]
TOP_FILES = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md", "meson.build", "meson_options.txt",
             "Dockerfile"]
SKIP_DIRS = {".git", "__pycache__", "corpus", "results"}

OUTSIDE = re.compile(r"shared/spec|\.\./shared")
# A rule code: one of the reference's section letters, a number, an optional letter suffix.
CODE = re.compile(r"(?<![\w/.#-])[A-HW][0-9]{1,2}[a-z]?(?![\w/-])")
# Terms that look like codes but are not:
# C1 control characters, and the C standards by year (C89, C99, C11, C17, C23).
NOT_A_CODE = re.compile(r"\bC1 control|\bC(?:89|99|11|17|23)\b")
MD_NAME = re.compile(r"(?<![\w/.-])((?:\.\.?/)?[\w./-]*[\w-]\.md)\b")
INLINE_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
LINK_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+(\S+)")


def source_files(root):
    for top in TOP_FILES:
        path = os.path.join(root, top)
        if os.path.isfile(path):
            yield path
    for name in ROOTS:
        for directory, dirs, files in os.walk(os.path.join(root, name)):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            for f in sorted(files):
                yield os.path.join(directory, f)


def language(path):
    base = os.path.basename(path)
    ext = os.path.splitext(base)[1]
    if ext in (".cpp", ".hpp", ".c", ".h", ".cc", ".inc", ".def", ".rs"):
        return "c"
    if ext == ".py":
        return "python"
    if ext == ".md":
        return "markdown"
    if ext == ".wat":
        return "wat"
    if base in ("meson.build", "meson_options.txt", "Dockerfile") or ext in (".sh", ".yml",
                                                                           ".service", ".build"):
        return "hash"
    if ext == "":
        try:
            with open(path, encoding="utf-8") as f:
                first = f.readline()
        except (UnicodeDecodeError, OSError):
            return None
        if first.startswith("#!") and "python" in first:
            return "python"
        if first.startswith("#!"):
            return "hash"
    return None


def c_comments(text):
    """(line, comment text) for each comment of a C or C++ source."""
    out = []
    i, line, n = 0, 1, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append((line, text[i + 2:end]))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end
            for k, part in enumerate(text[i + 2:end].split("\n")):
                out.append((line + k, part))
            line += text.count("\n", i, end)
            i = end + 2
        elif ch == "R" and text.startswith('R"', i) and (i == 0 or not text[i - 1].isalnum()):
            open_paren = text.find("(", i + 2)
            delimiter = text[i + 2:open_paren]
            end = text.find(")" + delimiter + '"', open_paren)
            end = n if end < 0 else end + len(delimiter) + 2
            line += text.count("\n", i, end)
            i = end
        elif ch in "\"'":
            j = i + 1
            while j < n and text[j] != ch and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        else:
            i += 1
    return out


def python_comments(text):
    out = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                out.append((token.start[0], token.string[1:]))
        tree = ast.parse(text)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return [(k + 1, l) for k, l in enumerate(text.split("\n")) if l.lstrip().startswith("#")]
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc is not None and node.body:
                first = node.body[0].lineno
                for k, part in enumerate(doc.split("\n")):
                    out.append((first + k, part))
    return out


def prefixed_comments(text, marker):
    out = []
    for k, l in enumerate(text.split("\n")):
        at = l.find(marker)
        if at >= 0 and (at == 0 or l[at - 1] in " \t"):
            out.append((k + 1, l[at + len(marker):]))
    return out


def markdown_prose(text):
    """(line, text) of every line, and the lines outside fenced code for link checks."""
    everything, outside_code, fenced = [], [], False
    for k, l in enumerate(text.split("\n")):
        everything.append((k + 1, l))
        if l.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            outside_code.append((k + 1, re.sub(r"`[^`]*`", "``", l)))
    return everything, outside_code


def slug(heading):
    text = re.sub(r"[`*_]", lambda m: "_" if m.group(0) == "_" else "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        found, seen, fenced = set(), {}, False
        with open(path, encoding="utf-8") as f:
            for l in f:
                if l.lstrip().startswith("```"):
                    fenced = not fenced
                m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", l)
                if m and not fenced:
                    base = slug(m.group(1))
                    count = seen.get(base, 0)
                    seen[base] = count + 1
                    found.add(base if count == 0 else f"{base}-{count}")
        cache[path] = found
    return cache[path]


def md_exists(root, citing, name):
    if name.startswith(("http:", "https:")):
        return True
    for base in (os.path.dirname(citing), root, os.path.join(root, "docs")):
        if os.path.isfile(os.path.normpath(os.path.join(base, name))):
            return True
    return False


def check_text(root, path, lines, problems):
    rel = os.path.relpath(path, root)
    for number, text in lines:
        where = f"{rel}:{number}"
        if OUTSIDE.search(text):
            problems.append(f"{where}: points outside the repository: {text.strip()}")
        for m in CODE.finditer(NOT_A_CODE.sub("", text)):
            problems.append(f"{where}: bare rule code {m.group(0)!r}; cite the rule's name in "
                            f"docs/decisions.md: {text.strip()}")
        for m in MD_NAME.finditer(text):
            if not md_exists(root, path, m.group(1)):
                problems.append(f"{where}: {m.group(1)} is not a file of the repository")


def check_links(root, path, lines, problems):
    rel = os.path.relpath(path, root)
    for number, text in lines:
        targets = [m.group(1) for m in INLINE_LINK.finditer(text)]
        definition = LINK_DEFINITION.match(text)
        if definition:
            targets.append(definition.group(1))
        for target in targets:
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # http:, https:, mailto:
            file_part, _, anchor = target.partition("#")
            linked = path if not file_part else os.path.normpath(
                os.path.join(os.path.dirname(path), file_part))
            if not os.path.exists(linked):
                problems.append(f"{rel}:{number}: link to a missing file: {target}")
            elif anchor and linked.endswith(".md") and anchor not in anchors(linked):
                problems.append(f"{rel}:{number}: no heading makes the anchor #{anchor} "
                                f"in {os.path.relpath(linked, root)}")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = os.path.abspath(sys.argv[1])
    problems, checked = [], 0
    for path in source_files(root):
        if os.path.abspath(path) == os.path.abspath(__file__):
            continue  # its own text names what it looks for
        kind = language(path)
        if kind is None:
            continue
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError:
            continue
        checked += 1
        if kind == "markdown":
            everything, outside_code = markdown_prose(text)
            check_text(root, path, everything, problems)
            check_links(root, path, outside_code, problems)
        elif kind == "c":
            check_text(root, path, c_comments(text), problems)
        elif kind == "python":
            check_text(root, path, python_comments(text), problems)
        elif kind == "wat":
            check_text(root, path, prefixed_comments(text, ";;"), problems)
        else:
            check_text(root, path, prefixed_comments(text, "#"), problems)
    for p in problems:
        print(p)
    print(f"{checked} files checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

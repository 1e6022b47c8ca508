#!/usr/bin/env python3
"""Lists functions longer than a limit (default 80 lines) in facet's C++/CUDA sources.

    scripts/long_functions.py [--limit 80] [--all] [paths...]   (default: every source folder but tests/)

A function is a top-level definition: a signature with "(" whose "{" closes at brace depth 0 (namespaces do not
count as depth). Lambdas and in-class member definitions are counted inside the function or class that holds
them. Strings, characters and comments are blanked before braces are counted. Prints "lines path:line name",
longest first; exits 0 (a report, not a gate).
"""
import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
FOLDERS = ["tensor", "kernels", "layers", "optim", "data", "models", "apps", "bench"]
EXTS = {".cpp", ".h", ".cu", ".cuh"}
NOT_FUNCTION = re.compile(r"^\s*(namespace|struct|class|enum|union|extern)\b")


def blank(text):
    """Code with strings, chars and comments replaced by spaces (newlines kept, so line numbers hold)."""
    pattern = re.compile(r'//[^\n]*|/\*.*?\*/|R"\((?:.|\n)*?\)"|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
    text = pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    # preprocessor lines (with their continuations) say nothing about functions
    return re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.M)


def functions(path):
    code = blank(path.read_text(errors="replace"))
    depth, head, start, name = 0, "", None, ""
    ns_depths = []  # depths at which a namespace block opened (do not count as nesting)
    line = 1
    for ch in code:
        if ch == "\n":
            line += 1
        if ch == "{":
            if start is None and depth == len(ns_depths):
                if NOT_FUNCTION.match(head.strip()) and head.strip().startswith("namespace"):
                    ns_depths.append(depth)
                elif "(" in head and not NOT_FUNCTION.match(head.strip()):
                    start = line
                    name = re.sub(r"\s+", " ", head.strip().split("(")[0])[-60:]
            depth += 1
            head = ""
        elif ch == "}":
            depth -= 1
            if ns_depths and depth == ns_depths[-1]:
                ns_depths.pop()
            elif start is not None and depth == len(ns_depths):
                yield line - start + 1, start, name
                start = None
            head = ""
        elif ch == ";":
            head = ""
        else:
            head += ch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=80)
    ap.add_argument("paths", nargs="*")
    args = ap.parse_args()
    roots = [pathlib.Path(p) for p in args.paths] or [ROOT / f for f in FOLDERS]
    found = []
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix in EXTS)
        for f in files:
            for n, at, name in functions(f):
                if n > args.limit:
                    found.append((n, f"{f.resolve().relative_to(ROOT)}:{at}", name))
    for n, where, name in sorted(found, reverse=True):
        print(f"{n:5d} {where} {name}")
    print(f"{len(found)} functions over {args.limit} lines", file=sys.stderr)


if __name__ == "__main__":
    main()

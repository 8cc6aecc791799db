#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ from the repository's own inputs.

Workflows and KFP pipelines are the YAML files under examples/, tests/ and ../shared/conformance/ (when
present); expressions are the `{{...}}` strings, `when`, `depends`, `withParam` and `withSequence` values
found in them, plus the expressions the unit tests use; shell inputs are the scripts of those workflows and
of the toolbox shell's tests. Each seed is named by the hash of its content, as libFuzzer names its own.
Run from the repository root: `python3 fuzz/seeds/make_seeds.py`.
"""
import glob
import hashlib
import os
import re
import sys
import warnings

import yaml

# Test sources hold escapes Python does not know (`\$`); they are kept as written.
warnings.filterwarnings("ignore", category=DeprecationWarning)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "fuzz", "corpus")


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    if not data or len(data) > 256 * 1024:
        return
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def yaml_files():
    pats = ["examples/**/*.yaml", "tests/**/*.yaml", "../shared/conformance/**/*.yaml",
            "docs/**/*.yaml"]
    seen = set()
    for p in pats:
        for f in glob.glob(os.path.join(ROOT, p), recursive=True):
            if "node_modules" in f or f in seen:
                continue
            seen.add(f)
            yield f


def walk(node, key=None, seen=None):
    """Yields (key, value) for every scalar, and (key, node) for every list or map; a node shared through
    YAML aliases is visited once (tests/bad-input holds a billion laughs)."""
    seen = set() if seen is None else seen
    if isinstance(node, (dict, list)):
        if id(node) in seen:
            return
        seen.add(id(node))
    if isinstance(node, dict):
        for k, v in node.items():
            yield str(k), v
            yield from walk(v, str(k), seen)
    elif isinstance(node, list):
        for v in node:
            yield key, v
            yield from walk(v, key, seen)


EXPR, WHEN, DEPENDS, DEPENDENCIES, PARAM, SEQUENCE = range(6)
SCRIPT, ARITH, PATTERN = range(3)


def expr(kind, text):
    write("expr", bytes([kind]) + text.encode())


def shell(kind, text):
    write("shell", bytes([kind]) + text.encode())


def from_workflow(text):
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return
    for doc in docs:
        for key, value in walk(doc):
            if isinstance(value, str):
                if "{{" in value:
                    expr(EXPR, value)
                if key == "when":
                    expr(WHEN, value)
                elif key == "depends":
                    expr(DEPENDS, value)
                elif key == "withParam":
                    expr(PARAM, value)
                elif key == "source" or key == "args":
                    shell(SCRIPT, value)
                    for m in re.findall(r"\$\(\((.*?)\)\)", value):
                        shell(ARITH, m)
            elif key == "dependencies" and isinstance(value, list):
                expr(DEPENDENCIES, "\n".join(str(v) for v in value))
            elif key == "withItems" and isinstance(value, list):
                import json
                try:
                    expr(PARAM, json.dumps(value))
                except TypeError:
                    pass
            elif key == "withSequence" and isinstance(value, dict):
                fields = [str(value.get(k, "")) for k in ("count", "start", "end", "format")]
                expr(SEQUENCE, "\n".join(fields))


def string_literals(path):
    src = open(path, encoding="utf-8").read()
    # "..." literals (with escapes) and r#"..."# literals.
    for m in re.finditer(r'r#"(.*?)"#', src, re.S):
        yield m.group(1)
    for m in re.finditer(r'(?<![r#\w])"((?:[^"\\\n]|\\.)*)"', src):
        try:
            yield bytes(m.group(1), "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
        except (UnicodeDecodeError, UnicodeEncodeError):
            yield m.group(1)


def main():
    for f in yaml_files():
        text = open(f, encoding="utf-8", errors="replace").read()
        write("workflow", text)
        if "pipelineInfo" in text or "deploymentSpec" in text:
            write("kfp", text)
        from_workflow(text)
    # Expressions from the unit tests of the expression modules.
    for lit in string_literals(os.path.join(ROOT, "runtime/src/expr/when.rs")):
        expr(WHEN, lit)
    for lit in string_literals(os.path.join(ROOT, "runtime/src/expr/depends.rs")):
        expr(DEPENDS, lit)
    for lit in string_literals(os.path.join(ROOT, "runtime/src/expr/items.rs")):
        if lit.startswith(("[", "{", "null")):
            expr(PARAM, lit)
    for lit in string_literals(os.path.join(ROOT, "runtime/src/expr/template.rs")):
        if "{{" in lit:
            expr(EXPR, lit)
    # Scripts from the toolbox shell's tests.
    for lit in string_literals(os.path.join(ROOT, "guests/toolbox/src/sh/tests.rs")):
        if len(lit) > 1:
            shell(SCRIPT, lit)
            for m in re.findall(r"\$\(\((.*?)\)\)", lit):
                shell(ARITH, m)
    for lit in string_literals(os.path.join(ROOT, "guests/toolbox/src/sh/arith.rs")):
        shell(ARITH, lit)
    for pat, s in [("*.txt", "a.txt"), ("[a-c]?*", "bcd"), ("\\*", "*"), ("[!0-9]*", "x1"),
                   ("*a*b*c*", "aabbcc"), ("[[:alpha:]]", "q")]:
        shell(PATTERN, pat + "\n" + s)
    for name in ("workflow", "kfp", "expr", "shell"):
        n = len(os.listdir(os.path.join(OUT, name)))
        print(f"{name}: {n} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()

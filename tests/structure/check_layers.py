#!/usr/bin/python3
"""Fails when a source file includes a file of a layer it may not use (tests/structure/layers.json).

Usage: check_layers.py [REPO]        check the tree (default: this file's repository)
       check_layers.py --self-test   show that a back-up include, an unknown folder and a missing file
                                     are each caught, on a throw-away tree
"""
import json
import pathlib
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SUFFIXES = {".hpp", ".cpp", ".h", ".cc"}


def layer_of(path, layers):
    """The layer whose longest path prefix matches `path` (files before folders)."""
    best, best_len = None, -1
    for layer in layers:
        for prefix in layer["paths"]:
            if path.startswith(prefix) and len(prefix) > best_len:
                best, best_len = layer, len(prefix)
    return best


def check(repo):
    repo = pathlib.Path(repo)
    spec = json.loads((repo / "tests/structure/layers.json").read_text())
    layers = spec["layers"]
    names = {l["name"] for l in layers}
    for l in layers:
        for m in l["may_include"]:
            if m not in names and not (repo / m).is_file():
                yield f"tests/structure/layers.json: layer {l['name']} may include '{m}', which is no layer and no file"
    for root in spec["sources"]:
        for f in sorted((repo / root).rglob("*")):
            if f.suffix not in SUFFIXES or not f.is_file():
                continue
            rel = f.relative_to(repo).as_posix()
            own = layer_of(rel, layers)
            if own is None:
                yield f"{rel}: in no layer of tests/structure/layers.json (declare its folder there)"
                continue
            text = f.read_text(errors="replace")
            for m in INCLUDE.finditer(text):
                inc = m.group(1)
                line = text.count("\n", 0, m.start()) + 1
                target = layer_of(inc, layers)
                if target is None:
                    if not (f.parent / inc).is_file():
                        yield f"{rel}:{line}: includes \"{inc}\", which is in no layer"
                    continue
                if target is own or target["name"] in own["may_include"] or inc in own["may_include"]:
                    continue
                yield (f"{rel}:{line}: layer {own['name']} includes \"{inc}\" of layer {target['name']}, "
                       f"which it may not use (allowed: {', '.join(own['may_include']) or 'nothing'})")


def self_test():
    """The checker must catch what it exists for; a checker that passes everything would pass here too
    without this."""
    here = pathlib.Path(__file__).resolve().parents[2]
    spec = (here / "tests/structure/layers.json").read_text()
    cases = {
        "back-up include": ("models/kernel/x.cpp", '#include "models/pool/launch.hpp"\n', "layer kernel includes"),
        "unknown folder": ("models/newthing/y.cpp", "int y;\n", "in no layer"),
        "pyequus past the facade": ("pyequus/src/z.cpp", '#include "sim/run.hpp"\n', "layer pyequus includes"),
    }
    failed = 0
    for name, (path, text, expect) in cases.items():
        with tempfile.TemporaryDirectory() as d:
            d = pathlib.Path(d)
            (d / "tests/structure").mkdir(parents=True)
            (d / "tests/structure/layers.json").write_text(spec)
            for root in json.loads(spec)["sources"]:
                (d / root).mkdir(parents=True, exist_ok=True)
            for needed in ("models/vme/vme_params.hpp", "sim/facade.hpp", "sim/report.hpp"):
                (d / needed).parent.mkdir(parents=True, exist_ok=True)
                (d / needed).write_text("")
            (d / path).parent.mkdir(parents=True, exist_ok=True)
            (d / path).write_text(text)
            errors = list(check(d))
            ok = any(expect in e for e in errors)
            print(f"self-test {name}: {'caught' if ok else 'MISSED'}: {errors}")
            failed += not ok
    return failed


def main(argv):
    if len(argv) > 1 and argv[1] == "--self-test":
        return 1 if self_test() else 0
    repo = argv[1] if len(argv) > 1 else pathlib.Path(__file__).resolve().parents[2]
    errors = list(check(repo))
    for e in errors:
        print(e)
    print(f"layering: {len(errors)} violation(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
"""Fails when a function in models/ or sim/ is longer than the limit without saying why.

A long function is allowed when a comment in the three lines above its first line contains
"long because" (case-insensitive), e.g. `// Long because it is Figure 7.1's M1-M4, step by step.`
Functions are found by Universal Ctags (Debian's universal-ctags), with their end lines.

Usage: check_function_length.py [REPO] [--limit N]
       check_function_length.py --self-test
"""
import json
import pathlib
import subprocess
import sys
import tempfile

LIMIT = 80
ROOTS = ["models", "sim"]


def functions(repo, roots):
    files = [str(p) for r in roots for p in sorted((repo / r).rglob("*")) if p.suffix in (".cpp", ".hpp")]
    if not files:
        return
    out = subprocess.run(
        ["ctags", "--output-format=json", "--fields=+ne", "--kinds-c++=f", "--language-force=c++", "-f", "-"]
        + files, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        tag = json.loads(line)
        if tag.get("_type") == "tag" and "end" in tag:
            yield tag


def check(repo, limit=LIMIT, roots=ROOTS):
    repo = pathlib.Path(repo)
    cache = {}
    for tag in functions(repo, roots):
        n = tag["end"] - tag["line"] + 1
        if n <= limit or tag["name"].startswith("__anon"):
            continue  # a lambda counts in the function that holds it
        path = pathlib.Path(tag["path"])
        lines = cache.setdefault(path, path.read_text(errors="replace").splitlines())
        above = "\n".join(lines[max(0, tag["line"] - 4):tag["line"] - 1]).lower()
        if "long because" in above:
            continue
        rel = path.resolve().relative_to(repo.resolve()).as_posix()
        yield f"{rel}:{tag['line']}: {tag.get('scope', '')}::{tag['name']} is {n} lines (limit {limit}); " \
              f"split it, or say why in a '// Long because ...' comment above it"


def self_test():
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        (d / "models/x").mkdir(parents=True)
        body = "  int a = 0;\n" * 90
        (d / "models/x/a.cpp").write_text(f"int too_long() {{\n{body}  return a;\n}}\n\n"
                                          f"// Long because the test says so.\nint excused() {{\n{body}  return a;\n}}\n"
                                          f"int short_one() {{ return 1; }}\n")
        errors = list(check(d, roots=["models"]))
        ok = len(errors) == 1 and "too_long" in errors[0]
        print(f"self-test: {'ok' if ok else 'WRONG'}: {errors}")
        return 0 if ok else 1


def main(argv):
    if "--self-test" in argv:
        return self_test()
    limit = LIMIT
    if "--limit" in argv:
        i = argv.index("--limit")
        limit = int(argv[i + 1])
        del argv[i:i + 2]
    repo = pathlib.Path(argv[1]) if len(argv) > 1 else pathlib.Path(__file__).resolve().parents[2]
    errors = list(check(repo, limit))
    for e in errors:
        print(e)
    print(f"function length: {len(errors)} function(s) over {limit} lines without a reason")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

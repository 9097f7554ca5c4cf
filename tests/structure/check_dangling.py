#!/usr/bin/python3
"""Fails on a reference bound to a temporary that dies at the end of its statement.

The pattern it knows is nlohmann's `const auto& [key, value] = *j.items().begin();`: the structured
binding refers to the iteration_proxy_value that `begin()` returned, gone at the `;`, and reading
`key` is a stack use after scope (every scenario with an expression failed under AddressSanitizer).
A release build reads it silently, so this check is the regression test of the fix.

Usage: check_dangling.py [REPO]
       check_dangling.py --self-test
"""
import pathlib
import re
import sys
import tempfile

ROOTS = ["models", "sim", "pyequus", "bench", "tests"]
# `auto& [..] = *<expr>.items().begin()` or `.items().end()`, with any spacing and qualifiers.
PATTERN = re.compile(r"auto\s*&&?\s*\[[^\]]*\]\s*=\s*\*[^;]*\.items\(\)\s*\.\s*(begin|end)\(\)")


def check(repo, roots=ROOTS):
    repo = pathlib.Path(repo)
    for root in roots:
        for path in sorted((repo / root).rglob("*")):
            if path.suffix not in (".cpp", ".hpp"):
                continue
            for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if PATTERN.search(line):
                    rel = path.relative_to(repo).as_posix()
                    yield f"{rel}:{n}: a structured binding to *items().begin() outlives its temporary; " \
                          f"bind the iterator first (auto it = j.begin(); it.key(), it.value())"


def self_test():
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        (d / "models/x").mkdir(parents=True)
        (d / "models/x/a.cpp").write_text("void f(const json& j) {\n"
                                          "  const auto& [key, arg] = *j.items().begin();\n"
                                          "  auto it = j.begin();\n"
                                          "  for (const auto& [k, v] : j.items()) {}\n}\n")
        errors = list(check(d, roots=["models"]))
        ok = len(errors) == 1 and "a.cpp:2:" in errors[0]
        print(f"self-test: {'ok' if ok else 'WRONG'}: {errors}")
        return 0 if ok else 1


def main(argv):
    if "--self-test" in argv:
        return self_test()
    repo = pathlib.Path(argv[1]) if len(argv) > 1 else pathlib.Path(__file__).resolve().parents[2]
    errors = list(check(repo))
    for e in errors:
        print(e)
    print(f"dangling bindings: {len(errors)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

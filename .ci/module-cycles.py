#!/usr/bin/env python3
"""Fails when a module of a protocol crate imports one that imports it back.

For each crate, every `use crate::...` and `use super::...` (and paths in
the code such as `crate::x::Y`) is resolved to the module that defines the
name; an edge goes from the importing module to that module. A module's
own child modules are declarations, not imports. Re-exports (`pub use`)
count as imports. Any cycle in the resulting graph is printed."""
import os
import re
import sys

CRATES = ["osap-proto", "oic-ra-proto", "siot-proto", "irsp-proto", "iot-xmpp", "iot-sansio", "iot-store-postgres"]


def modules(src):
    """Maps module paths (tuples) to file paths."""
    mods = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, f), src)[:-3].split(os.sep)
            if rel[-1] in ("lib", "mod", "main"):
                rel = rel[:-1]
            mods[tuple(rel)] = os.path.join(root, f)
    return mods


def inline_test_modules(text):
    """Drops `#[cfg(test)] mod tests { ... }` bodies: tests may import freely."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def inline_modules(text):
    """Inside an inline `mod x { ... }`, `super::` names the file's own
    module: rewrite it to `self::` so the path resolves from the file."""
    out, i = [], 0
    for m in re.finditer(r"\bmod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.end()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        out.append(text[m.end():j].replace("super::", "self::"))
        i = j
    out.append(text[i:])
    return "".join(out)


def targets(module, path, mods):
    """The module a `crate::`/`super::` path names an item of."""
    if path[0] == "crate":
        base, rest = (), path[1:]
    else:
        base, rest = module, path
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
        if rest and rest[0] == "self":
            rest = rest[1:]
    # The longest prefix of `rest` that is a module; what follows is an item.
    best = base
    for k in range(1, len(rest) + 1):
        if base + tuple(rest[:k]) in mods:
            best = base + tuple(rest[:k])
    return best


def main():
    failed = False
    for crate in CRATES:
        src = os.path.join(crate, "src")
        mods = modules(src)
        edges = {m: set() for m in mods}
        for m, f in mods.items():
            text = inline_test_modules(open(f, encoding="utf-8").read())
            text = inline_modules(re.sub(r"//[^\n]*", "", text))
            # `pub(in crate::x)` is a visibility, not an import.
            text = re.sub(r"pub\(in [\w:]+\)", "pub", text)
            for use in re.finditer(r"\buse\s+((?:crate|super|self)(?:::\w+)*)(?:::\{([^;]*)\})?\s*(?:as\s+\w+)?;", text):
                head = use.group(1).split("::")
                items = [x.strip().split("::")[0].split(" ")[0] for x in (use.group(2) or "").split(",") if x.strip()]
                paths = [head + [i] for i in items] if items else [head]
                for p in paths:
                    t = targets(m, p, mods)
                    if t != m and t[: len(m)] != m:
                        edges[m].add(t)
            for p in re.finditer(r"\b((?:crate|super)(?:::\w+)+)", text):
                t = targets(m, p.group(1).split("::"), mods)
                if t != m and t[: len(m)] != m:
                    edges[m].add(t)
            # A child declared here and used through `child::` is not an import
            # back; a `pub use child::X` is an edge to the child.
            for p in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+(\w+)::", text):
                child = m + (p.group(1),)
                if child in mods:
                    edges[m].add(child)
            for p in re.finditer(r"\buse\s+(\w+)::", text):
                child = m + (p.group(1),)
                if child in mods:
                    edges[m].add(child)
        # Find cycles (pairs and longer) with a DFS.
        color, stack = {}, []

        def visit(v):
            nonlocal failed
            color[v] = 1
            stack.append(v)
            for w in sorted(edges.get(v, ())):
                if color.get(w) == 1:
                    cyc = stack[stack.index(w):] + [w]
                    print(f"{crate}: import cycle: " + " -> ".join("::".join(c) or "(root)" for c in cyc))
                    failed = True
                elif not color.get(w):
                    visit(w)
            stack.pop()
            color[v] = 2

        for v in sorted(edges):
            if not color.get(v):
                visit(v)
    if failed:
        sys.exit(1)
    print("no module imports one that imports it back")


if __name__ == "__main__":
    main()

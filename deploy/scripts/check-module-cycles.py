#!/usr/bin/env python3
"""Fails when two modules of one crate import each other, directly or in a loop.

A module is a source file (`lib.rs`/`main.rs` is the crate root, `a/mod.rs` is `a`). An import is
any path through `crate::`, `super::` or a `use` of a sibling module; a parent declaring its
children (`mod x;`) or re-exporting their items (`pub use x::Y;`, the facade of a crate root) is
not an import. Test code (`#[cfg(test)] mod tests`) is ignored: tests may
reach anywhere. Prints each loop it finds, shortest first.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CRATE_DIRS = ["services", "crates", "gateway", "integration-tests"]


def crate_roots():
    for manifest in sorted(ROOT.glob("**/Cargo.toml")):
        if "target" in manifest.parts or manifest.parent == ROOT:
            continue
        src = manifest.parent / "src"
        if src.is_dir():
            yield src


def module_name(src: Path, file: Path) -> str:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts) or "crate"


def strip_tests(text: str) -> str:
    """Drops `#[cfg(test)]` items (a `mod tests { ... }` block) and comments."""
    text = re.sub(r"//[^\n]*", "", text)
    out, i = [], 0
    marker = re.compile(r"#\[cfg\(test\)\]\s*(pub\s+)?mod\s+\w+\s*\{")
    while True:
        m = marker.search(text, i)
        if not m:
            out.append(text[i:])
            break
        out.append(text[i : m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    return "".join(out)


def expand_use_groups(text: str):
    """Yields each path of `use a::{b, c::d}` as `a::b`, `a::c::d` (nested groups too)."""
    for m in re.finditer(r"(?<!pub )\buse\s+([^;]+);", text):
        yield from _expand(m.group(1).replace("\n", " ").strip())


def _expand(path: str):
    brace = path.find("{")
    if brace < 0:
        yield path.strip()
        return
    prefix, inner = path[:brace], path[brace + 1 : path.rfind("}")]
    depth, start = 0, 0
    for k, ch in enumerate(inner + ","):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            item = inner[start:k].strip()
            start = k + 1
            if item:
                yield from _expand(prefix + item)


def imports(module: str, text: str, modules: set) -> set:
    parent = module.rsplit("::", 1)[0] if "::" in module else "crate"
    paths = list(expand_use_groups(text))
    outside_uses = re.sub(r"\buse\s+[^;]+;", "", text)
    paths += re.findall(r"\b(?:crate|super)(?:::\w+)+", outside_uses)
    found = set()
    for path in paths:
        segments = [s.strip() for s in path.split(" as ")[0].split("::")]
        if segments[0] == "crate":
            base, rest = [], segments[1:]
        elif segments[0] == "super":
            base = [] if parent == "crate" else parent.split("::")
            rest = segments[1:]
            while rest and rest[0] == "super":
                base, rest = base[:-1], rest[1:]
        elif segments[0] == "self":
            continue
        else:
            # `use sibling::X` in a crate root resolves to a child module.
            base = [] if module == "crate" else module.split("::")
            rest = segments if module == "crate" and segments[0] in modules else []
        # The deepest module the path names; an item in the crate root names the root.
        target, candidate = "crate", list(base)
        if candidate:
            target = "::".join(candidate)
        for seg in rest:
            candidate.append(seg)
            name = "::".join(candidate)
            if name in modules:
                target = name
            else:
                break
        if target != module and not module.startswith(target + "::") and not target.startswith(module + "::"):
            found.add(target)
        elif target == "crate" and module != "crate":
            # A child reaching into the root's own items (not a descendant's) is an import.
            found.add("crate")
    return found


def cycles(graph: dict):
    """Elementary cycles, found by a DFS from each node in order (each reported once)."""
    seen, result = set(), []
    nodes = sorted(graph)
    for start in nodes:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    key = frozenset(path)
                    if key not in seen:
                        seen.add(key)
                        result.append(path + [start])
                elif nxt not in path and nxt > start:
                    stack.append((nxt, path + [nxt]))
    return sorted(result, key=len)


def main() -> int:
    failed = False
    for src in crate_roots():
        files = sorted(src.rglob("*.rs"))
        modules = {module_name(src, f) for f in files} | {"crate"}
        # Top-level child names, for `use child::X` inside the crate root.
        graph = {}
        for f in files:
            # Binaries are crates of their own that use the library by name.
            if "bin" in f.relative_to(src).parts or (f.name == "main.rs" and (src / "lib.rs").exists()):
                continue
            module = module_name(src, f)
            children = {m.split("::")[0] for m in modules if m != "crate"}
            graph[module] = imports(module, strip_tests(f.read_text()), children | modules)
        for loop in cycles(graph):
            failed = True
            print(f"{src.parent.relative_to(ROOT)}: import loop " + " -> ".join(loop))
    if not failed:
        print("no import loops")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The crate graph, held to what ARCHITECTURE.md says it is.

What it is for: production code must not be able to link ground truth. The generator and
its truth (guardrail-sim) and the audit harness (guardrail-audit) may only be depended on
by the audit harness and the CLI binary; every other crate's dependency closure (normal and
dev dependencies) must stay free of them. Layer 0 (guardrail-types) depends on no crate of
ours. And the graph itself is recorded in docs/crate-graph.txt: a change to it fails this
check until the file is updated in the same commit, so the graph never changes by accident.

What it must never do: pass when cargo metadata cannot be read.

Usage: check_crate_graph.py [--print] [--write]
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "docs" / "crate-graph.txt"
# Crates that know ground truth, and the only crates allowed to depend on them.
TRUTH = {"guardrail-sim", "guardrail-audit"}
ALLOWED_TO_DEPEND_ON_TRUTH = {"guardrail-audit", "guardrail-cli"}


def graph():
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline"],
        cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        out = subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps"],
            cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"check_crate_graph: cargo metadata failed: {out.stderr.strip()}")
    metadata = json.loads(out.stdout)
    ours = {p["name"] for p in metadata["packages"]}
    edges = {}
    for package in metadata["packages"]:
        normal, dev = set(), set()
        for dep in package["dependencies"]:
            if dep["name"] not in ours:
                continue
            (dev if dep.get("kind") == "dev" else normal).add(dep["name"])
        edges[package["name"]] = (sorted(normal), sorted(dev - normal))
    return edges


def closure(edges, start, include_dev):
    seen, stack = set(), [start]
    while stack:
        name = stack.pop()
        normal, dev = edges.get(name, ([], []))
        for dep in normal + (dev if include_dev and name == start else []):
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


def render(edges):
    lines = []
    for name in sorted(edges):
        normal, dev = edges[name]
        line = f"{name} -> {', '.join(normal) or '(none)'}"
        if dev:
            line += f"  [dev: {', '.join(dev)}]"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main():
    edges = graph()
    text = render(edges)
    if "--print" in sys.argv:
        sys.stdout.write(text)
        return 0
    if "--write" in sys.argv:
        RECORD.write_text(text)
        return 0
    failures = []
    for name in sorted(edges):
        if name in ALLOWED_TO_DEPEND_ON_TRUTH:
            continue
        reached = closure(edges, name, include_dev=True) & TRUTH
        if name in TRUTH:
            reached -= {name}
            # The generator may not depend on the harness.
            reached &= {"guardrail-audit"}
        if reached:
            failures.append(f"{name} can link ground truth through {', '.join(sorted(reached))}")
    if edges.get("guardrail-types", ([], []))[0]:
        failures.append("guardrail-types (layer 0) depends on crates of ours: "
                        + ", ".join(edges["guardrail-types"][0]))
    recorded = RECORD.read_text() if RECORD.exists() else ""
    if recorded != text:
        failures.append(
            f"the crate graph differs from {RECORD.relative_to(ROOT)}; if the change is meant, "
            "run scripts/check_crate_graph.py --write and commit the file with it.\n"
            "now:\n" + text)
    if failures:
        for failure in failures:
            print(f"check_crate_graph: {failure}", file=sys.stderr)
        return 1
    print(f"crate graph ok: {len(edges)} crates, no production crate reaches ground truth")
    return 0


if __name__ == "__main__":
    sys.exit(main())

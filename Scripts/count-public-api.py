#!/usr/bin/env python3
"""Counts the public declarations of each library module, from the compiler's symbol graphs.

Builds the symbol graphs (public symbols only) into .build-docs, then prints one line per
module: its public declarations, split by kind. Run it before and after an API change to
report how the public surface moved.

Usage: Scripts/count-public-api.py [--json]
"""

import collections
import glob
import json
import os
import subprocess
import sys

MODULES = ["UserManagementKit", "UserManagementKitTesting", "UMKCrypto"]


def main():
    graphs = os.path.abspath(".build/public-api-graphs")
    # Kept between runs: an up-to-date build does not emit the graphs again.
    os.makedirs(graphs, exist_ok=True)
    for module in MODULES:
        subprocess.run(
            ["swift", "build", "--target", module, "--scratch-path", ".build-docs",
             "-Xswiftc", "-emit-symbol-graph", "-Xswiftc", "-emit-symbol-graph-dir",
             "-Xswiftc", graphs],
            check=True, stdout=subprocess.DEVNULL)
    result = {}
    for module in MODULES:
        kinds = collections.Counter()
        seen = set()
        for path in glob.glob(os.path.join(graphs, f"{module}*.symbols.json")):
            with open(path) as handle:
                graph = json.load(handle)
            if graph["module"]["name"] != module:
                continue
            for symbol in graph["symbols"]:
                if symbol.get("accessLevel") not in ("public", "open"):
                    continue
                # Members a protocol extension of another module supplies (`!=` for every
                # Equatable type, …) are not declarations of this module.
                if "::SYNTHESIZED::" in symbol["identifier"]["precise"]:
                    continue
                if symbol["identifier"]["precise"] in seen:
                    continue
                seen.add(symbol["identifier"]["precise"])
                kinds[symbol["kind"]["displayName"]] += 1
        result[module] = {"total": sum(kinds.values()), "kinds": dict(sorted(kinds.items()))}
    if "--json" in sys.argv:
        print(json.dumps(result, indent=2))
    else:
        for module, counts in result.items():
            detail = ", ".join(f"{kind}: {count}" for kind, count in counts["kinds"].items())
            print(f"{module}: {counts['total']} public declarations ({detail})")


if __name__ == "__main__":
    main()

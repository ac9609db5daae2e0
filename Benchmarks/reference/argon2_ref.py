#!/usr/bin/env python3
"""Reference timing for the Argon2 benchmarks: argon2-cffi (libargon2) `hash_secret_raw`.

Times only the hash call (no interpreter start-up, no import): one untimed warm-up call, then
`--runs` timed calls with time.perf_counter; prints one JSON object with the median, so that a
runner can interleave this process with our implementation and compare like for like
(see ../../../shared/BENCHMARKS.md).

    python3 Benchmarks/reference/argon2_ref.py --memory 19456 --iterations 2 --parallelism 1
    {"reference_name": "argon2-cffi 25.1.0", "variant": "id", "version": 19, "memory_kib": 19456,
     "iterations": 2, "parallelism": 1, "tag_length": 32, "runs": 5, "median": 0.0224,
     "min": 0.0221, "times": [...], "tag": "..."}

With `--serve` the script stays up for a runner that interleaves: after the warm-up it prints one
JSON line with `reference_name` and `tag`, then for every line read from standard input it runs
one timed call and prints `{"seconds": …}`; it exits at end of input.

Needs `pip install argon2-cffi`. The lanes run on `--parallelism` threads (libargon2 creates one
thread per lane and slice), matching our implementation's lanes-in-parallel schedule. The inputs
default to the same password and salt as the Swift side (`password`, `somesalt12345678`) and the
tag is printed so the two outputs can be checked for equality.
"""

import argparse
import json
import statistics
import sys
import time
from importlib.metadata import version as package_version

from argon2.low_level import Type, hash_secret_raw

VARIANTS = {"d": Type.D, "i": Type.I, "id": Type.ID}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="id")
    parser.add_argument("--version", type=int, choices=(16, 19), default=19)
    parser.add_argument("--memory", type=int, required=True, help="m in KiB")
    parser.add_argument("--iterations", type=int, required=True, help="t")
    parser.add_argument("--parallelism", type=int, default=1, help="p (lanes and threads)")
    parser.add_argument("--tag-length", type=int, default=32)
    parser.add_argument("--runs", type=int, default=5, help="timed calls after the warm-up")
    parser.add_argument("--password", default="password")
    parser.add_argument("--salt", default="somesalt12345678")
    parser.add_argument("--serve", action="store_true",
                        help="time one call per line of standard input (see above)")
    args = parser.parse_args(argv)

    password = args.password.encode()
    salt = args.salt.encode()

    def run():
        return hash_secret_raw(
            password, salt, time_cost=args.iterations, memory_cost=args.memory,
            parallelism=args.parallelism, hash_len=args.tag_length,
            type=VARIANTS[args.variant], version=args.version)

    tag = run()  # warm-up (allocator, page tables, caches)
    reference_name = f"argon2-cffi {package_version('argon2-cffi')}"
    if args.serve:
        serve(run, reference_name, tag)
        return
    times = []
    for _ in range(max(1, args.runs)):
        start = time.perf_counter()
        tag = run()
        times.append(time.perf_counter() - start)
    json.dump({
        "reference_name": reference_name,
        "variant": args.variant,
        "version": args.version,
        "memory_kib": args.memory,
        "iterations": args.iterations,
        "parallelism": args.parallelism,
        "tag_length": args.tag_length,
        "runs": len(times),
        "median": statistics.median(times),
        "min": min(times),
        "times": times,
        "tag": tag.hex(),
    }, sys.stdout)
    sys.stdout.write("\n")


def serve(run, reference_name, tag):
    """Prints the header line, then one timing line per line of standard input."""
    print(json.dumps({"reference_name": reference_name, "tag": tag.hex()}), flush=True)
    for _ in sys.stdin:
        start = time.perf_counter()
        run()
        print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)


if __name__ == "__main__":
    main()

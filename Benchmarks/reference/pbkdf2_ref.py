#!/usr/bin/env python3
"""Reference timing for the PBKDF2 benchmarks: OpenSSL through Python's `hashlib.pbkdf2_hmac`.

Times only the derivation (no interpreter start-up, no import): one untimed warm-up call, then
`--runs` timed calls with time.perf_counter; prints one JSON object with the median and the
OpenSSL version Python is linked against, so that a runner can compare like for like
(see ../../../shared/BENCHMARKS.md).

    python3 Benchmarks/reference/pbkdf2_ref.py --hash sha256 --iterations 600000
    {"reference_name": "OpenSSL 3.0.19 27 Jan 2026 (hashlib)", "hash": "sha256",
     "iterations": 600000, "key_length": 32, "runs": 5, "median": 0.175, "min": 0.174,
     "times": [...], "key": "..."}

With `--serve` the script stays up for a runner that interleaves: after the warm-up it prints one
JSON line with `reference_name` and `key`, then for every line read from standard input it runs
one timed derivation and prints `{"seconds": …}`; it exits at end of input.

OpenSSL picks its SHA implementation from the CPU at start-up. To measure it without the SHA
extensions, start the script with `OPENSSL_ia32cap=':~0x20000000'` in its environment (clears
CPUID.7.EBX bit 29 only; an empty mask would turn off every extension, SSE and AVX included).
The inputs default to the same password and salt as the Swift side (`password`,
`somesalt12345678`) and the key is printed so the two outputs can be checked for equality.
"""

import argparse
import hashlib
import json
import os
import ssl
import statistics
import sys
import time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hash", choices=("sha1", "sha256", "sha512"), default="sha256")
    parser.add_argument("--iterations", type=int, required=True)
    parser.add_argument("--key-length", type=int, default=None,
                        help="dkLen in bytes (default: the digest length)")
    parser.add_argument("--runs", type=int, default=5, help="timed calls after the warm-up")
    parser.add_argument("--password", default="password")
    parser.add_argument("--salt", default="somesalt12345678")
    parser.add_argument("--serve", action="store_true",
                        help="time one call per line of standard input (see above)")
    args = parser.parse_args(argv)

    password = args.password.encode()
    salt = args.salt.encode()
    key_length = args.key_length or hashlib.new(args.hash).digest_size

    def run():
        return hashlib.pbkdf2_hmac(args.hash, password, salt, args.iterations, key_length)

    key = run()  # warm-up (OpenSSL's lazy initialisation, caches, CPU frequency)
    reference_name = f"{ssl.OPENSSL_VERSION} (hashlib)"
    capability_mask = os.environ.get("OPENSSL_ia32cap")
    if capability_mask is not None:
        reference_name += f", OPENSSL_ia32cap={capability_mask}"
    if args.serve:
        print(json.dumps({"reference_name": reference_name, "key": key.hex()}), flush=True)
        for _ in sys.stdin:
            start = time.perf_counter()
            run()
            print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)
        return
    times = []
    for _ in range(max(1, args.runs)):
        start = time.perf_counter()
        key = run()
        times.append(time.perf_counter() - start)
    json.dump({
        "reference_name": reference_name,
        "hash": args.hash,
        "iterations": args.iterations,
        "key_length": key_length,
        "runs": len(times),
        "median": statistics.median(times),
        "min": min(times),
        "times": times,
        "key": key.hex(),
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

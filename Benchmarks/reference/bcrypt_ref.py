#!/usr/bin/env python3
"""Reference timing for the bcrypt benchmark: Python's `bcrypt` package, `bcrypt.checkpw`.

Times only the verification call (no interpreter start-up, no import, no hashing of the stored
string): one untimed warm-up call, then `--runs` timed calls with time.perf_counter; prints one
JSON object with the median, so that a runner can interleave this process with our
implementation and compare like for like (see ../../../shared/BENCHMARKS.md).

    python3 Benchmarks/reference/bcrypt_ref.py --cost 10
    {"reference_name": "bcrypt 5.0.0", "cost": 10, "runs": 5, "median": 0.0512, "min": 0.0509,
     "times": [...], "ok": true, "hash": "$2b$10$..."}

Needs `pip install bcrypt`. The stored hash is made once, before timing, from `--password` and
`--salt` (16 bytes of text, encoded with bcrypt's alphabet), so the Swift side can be given the
same inputs and its string compared with `hash`.
"""

import argparse
import json
import statistics
import sys
import time
from importlib.metadata import version as package_version

import bcrypt

BCRYPT_ALPHABET = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
STANDARD_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def bcrypt_base64(data: bytes) -> bytes:
    """bcrypt's unpadded Base64: the standard bit order with bcrypt's alphabet."""
    import base64

    standard = base64.b64encode(data).rstrip(b"=")
    return standard.translate(bytes.maketrans(STANDARD_ALPHABET, BCRYPT_ALPHABET))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cost", type=int, default=10, help="log2 of the rounds, 4..31")
    parser.add_argument("--runs", type=int, default=5, help="timed calls after the warm-up")
    parser.add_argument("--password", default="correct horse battery staple")
    parser.add_argument("--salt", default="somesalt12345678", help="16 bytes of text")
    parser.add_argument("--serve", action="store_true",
                        help="after the warm-up print one JSON header line, then time one "
                             "checkpw per line of standard input and print {\"seconds\": …}")
    args = parser.parse_args(argv)

    password = args.password.encode()
    salt = args.salt.encode()
    if len(salt) != 16:
        parser.error("--salt must be 16 bytes")
    setting = b"$2b$%02d$" % args.cost + bcrypt_base64(salt)
    stored = bcrypt.hashpw(password, setting)

    ok = bcrypt.checkpw(password, stored)  # warm-up
    if args.serve:
        # "key" is the verification outcome as one byte, for the runner's equality check.
        print(json.dumps({"reference_name": f"bcrypt {package_version('bcrypt')}",
                          "key": "01" if ok else "00", "hash": stored.decode("ascii")}),
              flush=True)
        for _ in sys.stdin:
            start = time.perf_counter()
            bcrypt.checkpw(password, stored)
            print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)
        return
    times = []
    for _ in range(max(1, args.runs)):
        start = time.perf_counter()
        ok = bcrypt.checkpw(password, stored) and ok
        times.append(time.perf_counter() - start)
    json.dump({
        "reference_name": f"bcrypt {package_version('bcrypt')}",
        "cost": args.cost,
        "runs": len(times),
        "median": statistics.median(times),
        "min": min(times),
        "times": times,
        "ok": ok,
        "hash": stored.decode("ascii"),
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

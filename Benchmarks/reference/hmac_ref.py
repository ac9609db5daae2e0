#!/usr/bin/env python3
"""Reference timing for the security benchmarks: OpenSSL's HMAC through Python's `hmac.digest`.

Two operations, each timed in batches of `--batch` operations (one operation takes about a
microsecond, far too little to time alone):

- `--mode totp-window`: checking one typed 6-digit TOTP code (RFC 6238, HMAC-SHA1, 30-second
  steps) against the window of three candidate steps (one either side of now, for clock skew):
  three HMAC-SHA1 of the 8-byte big-endian step, dynamic truncation (RFC 4226, 5.3), modulo
  10^6, each compared with the typed code. Operation i checks step `base + (i mod 1024)` with
  that step's code, as typed (computed before timing). The key is RFC 6238's SHA-1 test key.
- `--mode hmac-sha256`: verifying the keyed hash of an 88-byte token (the length of an API key,
  `umk_key_…`) with a 16-byte key: HMAC-SHA256, then a constant-time comparison with the stored
  tag (`hmac.compare_digest`).

`hmac.digest` is CPython's one-shot path straight into OpenSSL's HMAC (no `hmac.HMAC` object),
so the figure is OpenSSL's plus the interpreter's cost of the call and the loop around it.

    python3 Benchmarks/reference/hmac_ref.py --mode totp-window --batch 20000
    {"reference_name": "OpenSSL 3.0.19 27 Jan 2026 (Python 3.11.7 hmac.digest)", ...,
     "ops_per_second": ..., "tag": "..."}

With `--serve` the script stays up for a runner that interleaves: after one untimed warm-up
batch it prints one JSON line with `reference_name` and `tag` (the output to check ours
against: for `totp-window` the codes of the first four steps as 4-byte big-endian numbers, for
`hmac-sha256` the tag), then for every line read from standard input it times one batch and
prints `{"seconds": …, "valid": …}` (`valid`: how many operations accepted their input, which
must be all of them); it exits at end of input.
"""

import argparse
import hmac
import json
import platform
import ssl
import statistics
import sys
import time

# RFC 6238, appendix B: the SHA-1 test key.
TOTP_KEY = b"12345678901234567890"
# The time step of 2026-01-01T00:00:00Z (1767225600 / 30), as on the Swift side.
TOTP_BASE_STEP = 58_907_520
TOTP_SLOTS = 1024
# An 88-byte token shaped like an API key, and a 16-byte key (the Swift side's defaults).
TOKEN = b"umk_key_" + (b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" * 2)[:80]
TOKEN_KEY = b"somesalt12345678"


def totp_code(key, step):
    mac = hmac.digest(key, step.to_bytes(8, "big"), "sha1")
    offset = mac[19] & 0x0F
    return (int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF) % 1_000_000


def make_totp_window():
    digest = hmac.digest
    key = TOTP_KEY
    base = TOTP_BASE_STEP
    slots = TOTP_SLOTS
    typed_codes = [totp_code(key, base + slot) for slot in range(slots)]

    def run(count):
        valid = 0
        for index in range(count):
            slot = index % slots
            step = base + slot
            typed = typed_codes[slot]
            found = None
            for candidate in (step - 1, step, step + 1):
                mac = digest(key, candidate.to_bytes(8, "big"), "sha1")
                offset = mac[19] & 0x0F
                value = (int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF) % 1_000_000
                if value == typed:
                    found = candidate
            if found is not None:
                valid += 1
        return valid

    tag = b"".join(totp_code(key, base + slot).to_bytes(4, "big") for slot in range(4))
    return run, tag


def make_hmac_sha256():
    digest = hmac.digest
    compare = hmac.compare_digest
    key = TOKEN_KEY
    token = TOKEN
    assert len(token) == 88 and len(key) == 16
    stored = digest(key, token, "sha256")

    def run(count):
        valid = 0
        for _ in range(count):
            if compare(digest(key, token, "sha256"), stored):
                valid += 1
        return valid

    return run, stored


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("totp-window", "hmac-sha256"), required=True)
    parser.add_argument("--batch", type=int, default=20_000, help="operations per timed batch")
    parser.add_argument("--runs", type=int, default=5, help="timed batches after the warm-up")
    parser.add_argument("--serve", action="store_true",
                        help="time one batch per line of standard input (see above)")
    args = parser.parse_args(argv)

    run, tag = make_totp_window() if args.mode == "totp-window" else make_hmac_sha256()
    if run(args.batch) != args.batch:  # warm-up, and a check that every input is accepted
        sys.exit(f"{args.mode}: a valid input was rejected")
    reference_name = f"{ssl.OPENSSL_VERSION} (Python {platform.python_version()} hmac.digest)"
    if args.serve:
        print(json.dumps({"reference_name": reference_name, "tag": tag.hex()}), flush=True)
        for _ in sys.stdin:
            start = time.perf_counter()
            valid = run(args.batch)
            seconds = time.perf_counter() - start
            print(json.dumps({"seconds": seconds, "valid": valid}), flush=True)
        return
    times = []
    for _ in range(max(1, args.runs)):
        start = time.perf_counter()
        run(args.batch)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    json.dump({
        "reference_name": reference_name,
        "mode": args.mode,
        "batch": args.batch,
        "runs": len(times),
        "median": median,
        "ops_per_second": args.batch / median,
        "times": times,
        "tag": tag.hex(),
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

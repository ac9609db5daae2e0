#!/usr/bin/env python3
"""Generate cross-check vectors for UMKCrypto's one-time passwords, Base32 and ChaCha20-Poly1305
from independent implementations.

The expected values come from pyotp 2.9.0 (HOTP and TOTP, RFC 4226 and RFC 6238, over Python's
hmac and hashlib), Python's standard library base64 (b32encode and b32decode, RFC 4648 §6) and
cryptography 44.0.0 (ChaCha20Poly1305, RFC 8439, backed by OpenSSL). Inputs are pseudo-random
values from a fixed seed, so the output is deterministic: running the script again must produce
an identical file.

Usage (from the package root), in a throwaway virtual environment with the pinned versions:

    python3 -m venv /tmp/otpvenv
    /tmp/otpvenv/bin/pip install pyotp==2.9.0 cryptography==44.0.0
    /tmp/otpvenv/bin/python Scripts/generate-otp-vectors.py [output-path]

The default output path is Tests/UMKCryptoTests/OTPCrossCheckVectors.swift. The vectors are
embedded in Swift source (not resources) because the package declares no resources; they are
parsed by CrossCheckRecord (CrossCheckTests.swift) and checked by OTPCrossCheckTests.swift.

Record format (one record per logical line, fields separated by ':', empty fields as '-'):

    hotp:<sha1|sha256|sha512>:<digits>:<secret>:<counter>:<code>
    totp:<sha1|sha256|sha512>:<digits>:<period>:<secret>:<unix time>:<code>
    base32:<data>:<padded encoding>
    aead:<key>:<nonce>:<aad>:<plaintext>:<ciphertext>:<tag>

Byte strings are lowercase hex; codes are the decimal strings pyotp returns, zero-padded to the
digit count. Long records are wrapped with Swift's multi-line string line continuation (a
trailing backslash), which joins the pieces without adding characters.
"""

import base64
import datetime
import hashlib
import os
import random
import sys

SEED = 20260517
WRAP = 90
PINS = {"pyotp": "2.9.0", "cryptography": "44.0.0"}
DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def hexify(data: bytes) -> str:
    return data.hex() if data else "-"


def check_pins():
    """Refuses to run with other versions than the pinned ones, so the header stays true."""
    from importlib.metadata import PackageNotFoundError, version

    for name, pinned in PINS.items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            sys.exit(f"{name} is not installed; see the usage in this script's docstring")
        if installed != pinned:
            sys.exit(f"{name} {installed} is installed; this script is pinned to {pinned}")


def secret_bytes(rng):
    # 10 bytes (80 bits) is what many issuers use; 20, 32 and 64 match the RFC 6238 seeds.
    return rng.randbytes(rng.choice([10, 16, 20, 26, 32, 64, 65, 100]))


def pyotp_secret(secret: bytes) -> str:
    # pyotp takes base32 text and re-pads it itself.
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def hotp_records(rng):
    import pyotp

    for name, digest in DIGESTS.items():
        for digits in (6, 8):
            counters = [0, 1, rng.randrange(2, 1000), rng.randrange(1 << 32, 1 << 40),
                        (1 << 64) - 1 - rng.randrange(0, 1000)]
            for counter in counters:
                secret = secret_bytes(rng)
                hotp = pyotp.HOTP(pyotp_secret(secret), digits=digits, digest=digest)
                yield ":".join(["hotp", name, str(digits), hexify(secret), str(counter),
                                hotp.at(counter)])


def totp_records(rng):
    import pyotp

    for name, digest in DIGESTS.items():
        for digits in (6, 8):
            for period in (30, 60):
                secret = secret_bytes(rng)
                totp = pyotp.TOTP(pyotp_secret(secret), digits=digits, digest=digest,
                                  interval=period)
                # Around a random step boundary (its last second, its first, the next one),
                # a random time, and the epoch's first step.
                boundary = rng.randrange(1, 20_000_000_000 // period) * period
                times = [0, boundary - 1, boundary, boundary + 1,
                         rng.randrange(0, 20_000_000_000)]
                for unix_time in times:
                    # A timezone-aware datetime keeps pyotp on calendar.timegm (UTC), whatever
                    # the machine's local time zone.
                    moment = datetime.datetime.fromtimestamp(unix_time, tz=datetime.timezone.utc)
                    yield ":".join(["totp", name, str(digits), str(period), hexify(secret),
                                    str(unix_time), totp.at(moment)])


def base32_records(rng):
    for length in list(range(0, 26)) + [31, 32, 33, 40, 64, 65, 100]:
        data = rng.randbytes(length)
        encoding = base64.b32encode(data).decode("ascii")
        if base64.b32decode(encoding) != data:
            raise RuntimeError("base64.b32decode does not invert b32encode")
        yield ":".join(["base32", hexify(data), encoding if encoding else "-"])


def aead_records(rng):
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    # Lengths around the 16-byte Poly1305 and 64-byte ChaCha20 block boundaries, then random
    # ones up to 300 bytes.
    plaintext_lengths = [0, 1, 15, 16, 17, 20, 32, 48, 63, 64, 65, 127, 128, 129, 191, 192, 193,
                         255, 256, 257, 300]
    plaintext_lengths += [rng.randrange(0, 301) for _ in range(19)]
    for plaintext_length in plaintext_lengths:
        key = rng.randbytes(32)
        nonce = rng.randbytes(12)
        aad = rng.randbytes(rng.choice([0, 1, 12, 15, 16, 17, rng.randrange(0, 41), 40]))
        plaintext = rng.randbytes(plaintext_length)
        sealed = ChaCha20Poly1305(key).encrypt(nonce, plaintext, aad if aad else None)
        ciphertext, tag = sealed[:-16], sealed[-16:]
        yield ":".join(["aead", hexify(key), hexify(nonce), hexify(aad), hexify(plaintext),
                        hexify(ciphertext), hexify(tag)])


def wrap(record: str):
    pieces = [record[i:i + WRAP] for i in range(0, len(record), WRAP)]
    lines = ["  " + piece + "\\" for piece in pieces[:-1]]
    lines.append("  " + pieces[-1])
    return lines


def main():
    check_pins()
    import platform

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    default = os.path.join(root, "Tests", "UMKCryptoTests", "OTPCrossCheckVectors.swift")
    path = sys.argv[1] if len(sys.argv) > 1 else default

    rng = random.Random(SEED)
    records = []
    for generator in (hotp_records, totp_records, base32_records, aead_records):
        records.extend(generator(rng))

    out = [
        "// GENERATED FILE - DO NOT EDIT.",
        "// Generated by Scripts/generate-otp-vectors.py with a fixed random seed from pyotp "
        f"{PINS['pyotp']},",
        f"// Python {platform.python_version()} base64 and cryptography {PINS['cryptography']} "
        "(independent implementations).",
        "// Regenerate with:",
        "//   python3 -m venv /tmp/otpvenv",
        f"//   /tmp/otpvenv/bin/pip install pyotp=={PINS['pyotp']} "
        f"cryptography=={PINS['cryptography']}",
        "//   /tmp/otpvenv/bin/python Scripts/generate-otp-vectors.py",
        "// Record format: see the script's docstring.",
        "",
        "/// Cross-check vectors, one record per line; parsed by `CrossCheckRecord.parse`",
        "/// (CrossCheckTests.swift) and checked by OTPCrossCheckTests.swift.",
        'let otpCrossCheckVectorText = """',
    ]
    for record in records:
        out.extend(wrap(record))
    out.append('  """')
    with open(path, "w", encoding="ascii", newline="\n") as handle:
        handle.write("\n".join(out) + "\n")
    print(f"wrote {len(records)} records to {path}")


if __name__ == "__main__":
    main()

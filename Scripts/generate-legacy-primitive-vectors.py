#!/usr/bin/env python3
"""Generate cross-check vectors for UMKCrypto's legacy-verification primitives (MD5, SHA-384,
HMAC-SHA-384, PBKDF2-HMAC-SHA384, scrypt, AES-256-CTR) from independent implementations.

The expected values come from Python's hashlib and hmac (backed by OpenSSL in CPython) and
from the `cryptography` package (OpenSSL) for AES-256-CTR. Inputs are pseudo-random bytes from
a fixed seed, so the output is deterministic: running the script again must produce an
identical file. The versions used are written into the generated file's header.

Usage (from the package root; the tested version of `cryptography` is pinned):

    python3 -m pip install cryptography==48.0.0
    python3 Scripts/generate-legacy-primitive-vectors.py [output-path]

The default output path is Tests/UMKCryptoTests/LegacyPrimitiveCrossCheckVectors.swift; the
records are parsed by `CrossCheckRecord.parse` (CrossCheckTests.swift).

Record format (one record per logical line, fields separated by ':', empty fields as '-'):

    digest:<message>:<md5>:<sha384>
    hmac384:<key>:<message>:<hmac-sha384>
    pbkdf2-384:<password>:<salt>:<iterations>:<key length>:<derived key>
    scrypt:<N>:<r>:<p>:<password>:<salt>:<key length>:<derived key>
    aes256ctr:<key>:<initial counter block>:<plaintext>:<ciphertext>

Byte strings are lowercase hex. Long records are wrapped with Swift's multi-line string line
continuation (a trailing backslash), which joins the pieces without adding characters.
"""

import hashlib
import hmac
import os
import platform
import random
import sys
from importlib.metadata import version

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SEED = 20261205
WRAP = 90

# Every length up to three MD5 blocks, then the SHA-384 (128-byte block) padding boundaries
# (111/112/113: the length field no longer fits) up to 300 bytes.
MESSAGE_LENGTHS = list(range(0, 193)) + [
    200, 239, 240, 241, 247, 248, 249, 255, 256, 257, 300,
]


def hexify(data: bytes) -> str:
    return data.hex() if data else "-"


def digest_records(rng):
    for length in MESSAGE_LENGTHS:
        message = rng.randbytes(length)
        yield ":".join([
            "digest", hexify(message), hashlib.md5(message).hexdigest(),
            hashlib.sha384(message).hexdigest(),
        ])


def hmac_records(rng):
    key_lengths = [0, 1, 16, 47, 48, 49, 64, 111, 112, 127, 128, 129, 200, 300]
    message_lengths = [0, 1, 55, 56, 64, 111, 112, 127, 128, 129, 200, 300]
    for key_length in key_lengths:
        for message_length in rng.sample(message_lengths, 3):
            key = rng.randbytes(key_length)
            message = rng.randbytes(message_length)
            yield ":".join([
                "hmac384", hexify(key), hexify(message),
                hmac.new(key, message, hashlib.sha384).hexdigest(),
            ])


def pbkdf2_records(rng):
    for iterations, key_length in [(1, 1), (1, 48), (2, 49), (3, 96), (5, 100), (64, 20),
                                   (100, 200), (1000, 48)]:
        password = rng.randbytes(rng.randint(0, 140))
        salt = rng.randbytes(rng.randint(0, 40))
        derived = hashlib.pbkdf2_hmac("sha384", password, salt, iterations, key_length)
        yield ":".join([
            "pbkdf2-384", hexify(password), hexify(salt), str(iterations), str(key_length),
            derived.hex(),
        ])


def scrypt_records(rng):
    cases = [(2, 1, 1), (4, 1, 1), (8, 2, 1), (16, 1, 2), (16, 3, 3), (32, 4, 1),
             (64, 1, 4), (128, 2, 2), (256, 8, 1), (512, 1, 1), (1024, 8, 1), (2, 16, 1),
             (4, 5, 7), (1024, 1, 3), (2048, 1, 1)]
    for n, r, p in cases:
        password = rng.randbytes(rng.randint(0, 80))
        salt = rng.randbytes(rng.randint(0, 40))
        key_length = rng.choice([1, 16, 31, 32, 33, 64, 100])
        derived = hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=key_length,
                                 maxmem=64 * 1024 * 1024)
        yield ":".join([
            "scrypt", str(n), str(r), str(p), hexify(password), hexify(salt), str(key_length),
            derived.hex(),
        ])


def aes_records(rng):
    lengths = [0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 100, 128, 255, 256, 257, 300]
    counters = [
        bytes(16),  # Firebase's all-zero counter block
        b"\xff" * 16,  # wraps to zero after the first block
        b"\xff" * 15 + b"\xfe",
        bytes(7) + b"\x01" + b"\xff" * 8,  # carries out of the low 64 bits
    ]
    for index, length in enumerate(lengths):
        key = rng.randbytes(32)
        counter = counters[index] if index < len(counters) else rng.randbytes(16)
        plaintext = rng.randbytes(length)
        encryptor = Cipher(algorithms.AES(key), modes.CTR(counter)).encryptor()
        ciphertext = encryptor.update(plaintext) + encryptor.finalize()
        yield ":".join([
            "aes256ctr", hexify(key), hexify(counter), hexify(plaintext), hexify(ciphertext),
        ])


def wrap(record: str):
    pieces = [record[i:i + WRAP] for i in range(0, len(record), WRAP)]
    lines = ["  " + piece + "\\" for piece in pieces[:-1]]
    lines.append("  " + pieces[-1])
    return lines


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = (sys.argv[1] if len(sys.argv) > 1 else
            os.path.join(root, "Tests", "UMKCryptoTests", "LegacyPrimitiveCrossCheckVectors.swift"))
    rng = random.Random(SEED)
    records = []
    for generator in (digest_records, hmac_records, pbkdf2_records, scrypt_records,
                      aes_records):
        records.extend(generator(rng))
    import ssl
    out = [
        "// GENERATED FILE - DO NOT EDIT.",
        "// Generated by Scripts/generate-legacy-primitive-vectors.py with a fixed random seed",
        f"// from Python {platform.python_version()} hashlib and hmac ({ssl.OPENSSL_VERSION})",
        f"// and cryptography {version('cryptography')} (AES-256-CTR). Regenerate with:",
        "//   python3 -m pip install cryptography==48.0.0",
        "//   python3 Scripts/generate-legacy-primitive-vectors.py",
        "// Record format: see the script's docstring.",
        "",
        "/// Cross-check vectors for MD5, SHA-384, HMAC-SHA-384, PBKDF2-HMAC-SHA384, scrypt and",
        "/// AES-256-CTR, one record per line; parsed by `CrossCheckRecord.parse`",
        "/// (LegacyPrimitiveCrossCheckTests.swift).",
        'let legacyPrimitiveCrossCheckVectorText = """',
    ]
    for record in records:
        out.extend(wrap(record))
    out.append('  """')
    with open(path, "w", encoding="ascii", newline="\n") as handle:
        handle.write("\n".join(out) + "\n")
    print(f"wrote {len(records)} records to {path}")


if __name__ == "__main__":
    main()

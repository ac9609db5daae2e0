#!/usr/bin/env python3
"""Generate cross-check vectors for the UMKCrypto tests from independent implementations.

The expected values come from Python's standard library (hashlib, hmac, base64; hashlib and
hmac are backed by OpenSSL in CPython, hashlib.blake2b by the BLAKE2 reference code) and, for
Argon2, from argon2-cffi (the reference C implementation, libargon2). Inputs are pseudo-random
bytes from fixed seeds, so the output is deterministic: running the script again must produce
identical files.

Usage (from the package root; argon2-cffi is needed for the Argon2 file):

    python3 -m pip install argon2-cffi
    python3 Scripts/generate-crypto-vectors.py [output-path [argon2-output-path]]

The default output paths are Tests/UMKCryptoTests/CrossCheckVectors.swift and
Tests/UMKCryptoTests/Argon2CrossCheckVectors.swift. The vectors are embedded in Swift source
files (not resources) because the package declares no resources. The Argon2 vectors live in a
file of their own, generated from a separate seed, so that adding them left the original
vectors byte-for-byte unchanged.

Record format (one record per logical line, fields separated by ':', empty fields as '-'):

    hash:<message>:<sha1>:<sha256>:<sha512>
    hmac:<key>:<message>:<hmac-sha256>:<hmac-sha512>
    pbkdf2:<sha1|sha256|sha512>:<password>:<salt>:<iterations>:<key length>:<derived key>
    base64:<data>:<standard>:<standard unpadded>:<url-safe>:<url-safe unpadded>:<passlib ab64>
    blake2b:<key>:<message>:<digest length>:<digest>
    argon2:<d|i|id>:<version 16|19>:<m KiB>:<t>:<p>:<password>:<salt>:<secret>:<ad>:<tag>

Byte strings are lowercase hex. Long records are wrapped with Swift's multi-line string line
continuation (a trailing backslash), which joins the pieces without adding characters.
"""

import base64
import hashlib
import hmac
import os
import random
import sys

SEED = 20240601
ARGON2_SEED = 20251129
WRAP = 90


def hexify(data: bytes) -> str:
    return data.hex() if data else "-"


def text(value: str) -> str:
    return value if value else "-"


def hash_records(rng):
    lengths = list(range(0, 131)) + [
        135, 136, 137, 143, 144, 183, 191, 192, 200, 239, 240, 241, 247, 248, 255, 256, 257, 300,
    ]
    for length in lengths:
        message = rng.randbytes(length)
        yield ":".join([
            "hash",
            hexify(message),
            hashlib.sha1(message).hexdigest(),
            hashlib.sha256(message).hexdigest(),
            hashlib.sha512(message).hexdigest(),
        ])


def hmac_records(rng):
    key_lengths = [
        0, 1, 3, 16, 20, 31, 32, 33, 63, 64, 65, 100, 111, 112, 127, 128, 129, 131, 200, 300,
    ]
    message_lengths = [0, 1, 55, 56, 63, 64, 100, 111, 112, 128, 200, 300]
    for key_length in key_lengths:
        for message_length in rng.sample(message_lengths, 2):
            key = rng.randbytes(key_length)
            message = rng.randbytes(message_length)
            yield ":".join([
                "hmac",
                hexify(key),
                hexify(message),
                hmac.new(key, message, hashlib.sha256).hexdigest(),
                hmac.new(key, message, hashlib.sha512).hexdigest(),
            ])


def pbkdf2_records(rng):
    digest_sizes = {"sha1": 20, "sha256": 32, "sha512": 64}
    for name, size in digest_sizes.items():
        cases = [
            # (password length, salt length, iterations, derived key length)
            (0, 0, 1, size),
            (8, 16, 1, 1),
            (8, 16, 2, size - 1),
            (12, 8, 3, size + 1),
            (64, 16, 17, 2 * size + 3),
            (65, 16, 100, size),
            (129, 64, 10, 100),
            (200, 100, 1000, size),
            (16, 16, 2000, 2 * size),
            (5, 0, 2, 7),
        ]
        for password_length, salt_length, iterations, key_length in cases:
            password = rng.randbytes(password_length)
            salt = rng.randbytes(salt_length)
            derived = hashlib.pbkdf2_hmac(name, password, salt, iterations, key_length)
            yield ":".join([
                "pbkdf2",
                name,
                hexify(password),
                hexify(salt),
                str(iterations),
                str(key_length),
                hexify(derived),
            ])


def base64_records(rng):
    for length in list(range(0, 41)) + [47, 48, 49, 64, 100]:
        data = rng.randbytes(length)
        standard = base64.b64encode(data).decode("ascii")
        url = base64.urlsafe_b64encode(data).decode("ascii")
        yield ":".join([
            "base64",
            hexify(data),
            text(standard),
            text(standard.rstrip("=")),
            text(url),
            text(url.rstrip("=")),
            text(standard.rstrip("=").replace("+", ".")),
        ])


def blake2b_records(rng):
    """hashlib.blake2b, unkeyed and keyed, over block-boundary lengths and every digest size."""
    message_lengths = [0, 1, 3, 63, 64, 65, 111, 127, 128, 129, 200, 255, 256, 257, 384, 1000]
    key_lengths = [0, 1, 16, 32, 63, 64]
    digest_sizes = list(range(1, 65))
    for index, message_length in enumerate(message_lengths):
        for key_length in key_lengths:
            digest_size = digest_sizes[(index * 7 + key_length * 3) % 64]
            key = rng.randbytes(key_length)
            message = rng.randbytes(message_length)
            digest = hashlib.blake2b(message, digest_size=digest_size, key=key).digest()
            yield ":".join(["blake2b", hexify(key), hexify(message), str(digest_size),
                            hexify(digest)])
    # Every digest size once, on a short message with and without a key.
    for digest_size in digest_sizes:
        key = rng.randbytes(digest_size % 3 * 16)
        message = rng.randbytes(digest_size)
        digest = hashlib.blake2b(message, digest_size=digest_size, key=key).digest()
        yield ":".join(["blake2b", hexify(key), hexify(message), str(digest_size),
                        hexify(digest)])


def argon2_tag(variant, version, memory, iterations, lanes, password, salt, secret, ad,
               tag_length):
    """Argon2 through libargon2 as bundled by argon2-cffi.

    Without secret and associated data this is argon2.low_level.hash_secret_raw; with them it
    fills an argon2_context and calls argon2.low_level.core (hash_secret_raw has no parameters
    for K and X).
    """
    from argon2 import low_level

    kind = {"d": low_level.Type.D, "i": low_level.Type.I, "id": low_level.Type.ID}[variant]
    if not secret and not ad:
        return low_level.hash_secret_raw(
            password, salt, time_cost=iterations, memory_cost=memory, parallelism=lanes,
            hash_len=tag_length, type=kind, version=version)
    ffi = low_level.ffi
    buffers = {
        "out": ffi.new("uint8_t[]", tag_length),
        "pwd": ffi.new("uint8_t[]", password),
        "salt": ffi.new("uint8_t[]", salt),
        "secret": ffi.new("uint8_t[]", secret),
        "ad": ffi.new("uint8_t[]", ad),
    }
    context = ffi.new("argon2_context *", {
        "out": buffers["out"], "outlen": tag_length,
        "pwd": buffers["pwd"], "pwdlen": len(password),
        "salt": buffers["salt"], "saltlen": len(salt),
        "secret": buffers["secret"] if secret else ffi.NULL, "secretlen": len(secret),
        "ad": buffers["ad"] if ad else ffi.NULL, "adlen": len(ad),
        "t_cost": iterations, "m_cost": memory, "lanes": lanes, "threads": lanes,
        "version": version, "allocate_cbk": ffi.NULL, "free_cbk": ffi.NULL, "flags": 0,
    })
    result = low_level.core(context, kind.value)
    if result != 0:
        raise RuntimeError(low_level.error_to_str(result))
    return bytes(ffi.buffer(buffers["out"], tag_length))


def argon2_records(rng):
    """Small-parameter Argon2 tags: every variant and version, p 1..4, m 8p..256 KiB, t 1..3."""
    cases = []
    for variant in ("d", "i", "id"):
        for version in (0x10, 0x13):
            for lanes in (1, 2, 3, 4):
                # The smallest memory (8p), one that is not a multiple of 4p, and a larger one.
                for memory in (8 * lanes, 12 * lanes - 1, rng.choice([64, 100, 128, 200, 256])):
                    cases.append((variant, version, memory, rng.randint(1, 3), lanes))
    for variant, version, memory, iterations, lanes in cases:
        password = rng.randbytes(rng.choice([0, 1, 8, 16, 32, 65, 128]))
        salt = rng.randbytes(rng.choice([8, 16, 17, 32, 64]))
        with_extras = rng.random() < 0.4
        secret = rng.randbytes(rng.choice([1, 8, 32, 64])) if with_extras else b""
        ad = rng.randbytes(rng.choice([0, 1, 12, 100])) if with_extras else b""
        tag_length = rng.choice([4, 16, 31, 32, 33, 64, 65, 96, 97, 128, 200])
        tag = argon2_tag(variant, version, memory, iterations, lanes, password, salt, secret,
                         ad, tag_length)
        yield ":".join([
            "argon2", variant, str(version), str(memory), str(iterations), str(lanes),
            hexify(password), hexify(salt), hexify(secret), hexify(ad), hexify(tag),
        ])
    # Segments of more than 128 blocks, so that Argon2i and Argon2id need a second address
    # block (counter 2) within a segment.
    for variant in ("i", "id"):
        password = rng.randbytes(16)
        salt = rng.randbytes(16)
        tag = argon2_tag(variant, 0x13, 640, 1, 1, password, salt, b"", b"", 32)
        yield ":".join([
            "argon2", variant, "19", "640", "1", "1", hexify(password), hexify(salt), "-", "-",
            hexify(tag),
        ])


def wrap(record: str):
    pieces = [record[i:i + WRAP] for i in range(0, len(record), WRAP)]
    lines = ["  " + piece + "\\" for piece in pieces[:-1]]
    lines.append("  " + pieces[-1])
    return lines


def write_swift(path, header, name, records):
    out = header + [
        "",
        "/// Cross-check vectors, one record per line; parsed by `CrossCheckRecord.all`",
        "/// (CrossCheckTests.swift).",
        f'let {name} = """',
    ]
    for record in records:
        out.extend(wrap(record))
    out.append('  """')
    with open(path, "w", encoding="ascii", newline="\n") as handle:
        handle.write("\n".join(out) + "\n")
    print(f"wrote {len(records)} records to {path}")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tests = os.path.join(root, "Tests", "UMKCryptoTests")
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(tests, "CrossCheckVectors.swift")
    argon2_path = (sys.argv[2] if len(sys.argv) > 2
                   else os.path.join(tests, "Argon2CrossCheckVectors.swift"))

    rng = random.Random(SEED)
    records = []
    for generator in (hash_records, hmac_records, pbkdf2_records, base64_records):
        records.extend(generator(rng))
    write_swift(path, [
        "// GENERATED FILE - DO NOT EDIT.",
        "// Generated by Scripts/generate-crypto-vectors.py from Python's hashlib, hmac and base64",
        "// (an independent implementation) with a fixed random seed. Regenerate with:",
        "//   python3 Scripts/generate-crypto-vectors.py",
        "// Record format: see the script's docstring.",
    ], "crossCheckVectorText", records)

    from importlib.metadata import version
    import platform

    rng = random.Random(ARGON2_SEED)
    records = list(blake2b_records(rng)) + list(argon2_records(rng))
    write_swift(argon2_path, [
        "// GENERATED FILE - DO NOT EDIT.",
        "// Generated by Scripts/generate-crypto-vectors.py with a fixed random seed from",
        f"// Python {platform.python_version()} hashlib.blake2b and argon2-cffi "
        f"{version('argon2-cffi')}",
        f"// (argon2-cffi-bindings {version('argon2-cffi-bindings')}, libargon2). "
        "Regenerate with:",
        "//   python3 -m pip install argon2-cffi && python3 Scripts/generate-crypto-vectors.py",
        "// Record format: see the script's docstring.",
    ], "argon2CrossCheckVectorText", records)


if __name__ == "__main__":
    main()

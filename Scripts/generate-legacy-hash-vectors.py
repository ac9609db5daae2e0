#!/usr/bin/env python3
"""Writes Tests/UserManagementKitTests/Generated/PasswordHashVectors+Legacy2.swift: phpass,
WordPress 6.8, MD5-crypt and scrypt hashes written by the real implementations, with the
passwords that match them.

- phpass `$P$` and `$H$`: passlib's `phpass`; MD5-crypt `$1$`: passlib's `md5_crypt`;
  passlib `$scrypt$`: passlib's `scrypt`.
- Django `scrypt$…`: Django's own `ScryptPasswordHasher`.
- WordPress 6.8 `$wp$2y$…`: WordPress is PHP, so its `wp_hash_password` is reproduced from its
  documented construction, `'$wp' . password_hash(base64_encode(hash_hmac('sha384',
  trim($password), 'wp-sha384', true)), PASSWORD_BCRYPT)`, with hmac/hashlib and the `bcrypt`
  package (PHP's PASSWORD_BCRYPT writes `$2y$`).
- Firebase's modified scrypt: the `firebase-scrypt` package's `generate_derived_key` and
  `encrypt` (scrypt, then AES-256-CTR of the signer key), each hash also checked with its
  `verify_password` and recomputed independently with hashlib.scrypt and `cryptography`'s
  AES-CTR. The hashes are wrapped as `$firebase-scrypt$<base64 salt>$<base64 hash>`, the
  library's own format. One vector is Firebase's published example (the firebase/scrypt
  README: password `user1password`, rounds 8, mem_cost 14).
- WordPress before 6.8 also trimmed before phpass hashing; the vectors whose password has
  surrounding whitespace and format `phpass` with `$P$` are hashed trimmed, as WordPress did.

Costs are small so the debug-build tests stay fast; salts are fixed, so output is reproducible.

Usage: python3 -m venv .build/pyvenv
       .build/pyvenv/bin/pip install 'django==4.2.30' 'passlib==1.7.4' 'bcrypt==4.0.1' \
           'firebase-scrypt==0.1.0' 'pycryptodome==4.5.0' 'cryptography==51.0.1'
       .build/pyvenv/bin/python Scripts/generate-legacy-hash-vectors.py
"""
import base64
import hashlib
import hmac
import importlib.metadata
import pathlib

import django
from django.conf import settings

settings.configure(USE_TZ=True)
django.setup()
from django.contrib.auth import hashers as dj  # noqa: E402
from passlib import hash as ph  # noqa: E402
import bcrypt  # noqa: E402
import firebase_scrypt  # noqa: E402
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402

STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
BCRYPT64 = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
HASH64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PHP_TRIM = " \t\n\r\0\x0b"

PASSWORDS = [
    "correct horse battery staple",
    "p",
    "pässwörd-ÄÖÜ",  # NFC
    "cafe\u0301 au lait",  # decomposed: legacy systems hashed these exact bytes
    "日本語のパスワード",
    "x" * 100,
    "  padded secret\t",  # WordPress trims before hashing
]


def bcrypt_salt(raw, cost, prefix):
    text = base64.b64encode(raw).decode().rstrip("=").translate(str.maketrans(STANDARD, BCRYPT64))
    return f"${prefix}${cost:02d}${text}".encode()


def wordpress_hash(password, salt, cost):
    prehash = base64.b64encode(
        hmac.new(b"wp-sha384", password.strip(PHP_TRIM).encode("utf-8"), hashlib.sha384).digest())
    return "$wp" + bcrypt.hashpw(prehash, bcrypt_salt(salt, cost, "2y")).decode()


vectors = []  # (format, password, hash)
for index, password in enumerate(PASSWORDS):
    salt = bytes((index * 11 + i) % 256 for i in range(16))
    salt8 = "".join(HASH64[(index * 5 + i * 7) % 64] for i in range(8))
    # phpass: WordPress writes $P$ with 2^8 iterations (hashing the trimmed password);
    # phpBB3 writes $H$ with 2^11 and does not trim.
    vectors.append(("phpass", password, ph.phpass.using(
        ident="P", rounds=7 + index % 2, salt=salt8).hash(password.strip(PHP_TRIM))))
    vectors.append(("phpass", password, ph.phpass.using(
        ident="H", rounds=8, salt=salt8[::-1]).hash(password)))
    vectors.append(("wordpress-bcrypt", password, wordpress_hash(password, salt, 4)))
    vectors.append(("md5-crypt", password, ph.md5_crypt.using(
        salt=salt8[: index % 9] if index != 1 else salt8).hash(password)))
    vectors.append(("django-scrypt", password, dj.ScryptPasswordHasher().encode(
        password, f"saltSALT{index:04d}xyz", n=2 ** (4 + index % 3), r=1 + index % 4,
        p=1 + index % 2)))
    vectors.append(("passlib-scrypt", password, ph.scrypt.using(
        rounds=4 + index % 3, block_size=1 + index % 8, parallelism=1 + index % 3,
        salt=salt[: 8 + index]).hash(password)))
# An empty salt, as MD5-crypt allows.
vectors.append(("md5-crypt", "empty salt", ph.md5_crypt.using(salt="").hash("empty salt")))

# Firebase: (base64 signer key, base64 salt separator, rounds, mem_cost, password, hash).
FIREBASE_SIGNER_KEY = base64.b64encode(bytes((i * 37 + 5) % 256 for i in range(64))).decode()
firebase_vectors = [(
    "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
    "Bw==", 8, 14, "user1password",
    "$firebase-scrypt$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3a"
    "oItz+VHjoZilo78198JAdRuid5lQ==")]
for index, password in enumerate(PASSWORDS):
    salt = base64.b64encode(bytes((index * 13 + i) % 256 for i in range(10 + index))).decode()
    separator, rounds, mem_cost = ["Bw==", "", "AQID"][index % 3], 1 + index % 8, 4 + index % 3
    key = firebase_scrypt.generate_derived_key(password, salt, separator, rounds, mem_cost)
    hashed = base64.b64encode(
        firebase_scrypt.encrypt(base64.b64decode(FIREBASE_SIGNER_KEY), key)).decode()
    firebase_vectors.append((FIREBASE_SIGNER_KEY, separator, rounds, mem_cost, password,
                             f"$firebase-scrypt${salt}${hashed}"))
for signer, separator, rounds, mem_cost, password, wrapped in firebase_vectors:
    _, _, salt, hashed = wrapped.split("$")
    assert firebase_scrypt.verify_password(password, hashed, salt, separator, signer, rounds,
                                           mem_cost)
    derived = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt)
                             + base64.b64decode(separator), n=2 ** mem_cost, r=rounds, p=1,
                             dklen=32)
    encryptor = Cipher(algorithms.AES(derived), modes.CTR(b"\0" * 16)).encryptor()
    assert encryptor.update(base64.b64decode(signer)) + encryptor.finalize() \
        == base64.b64decode(hashed)


def swift_string(text):
    return '"' + "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else f"\\u{{{ord(c):X}}}"
        for c in text) + '"'


rows = ",\n".join(f"  ({swift_string(f)}, {swift_string(p)}, {swift_string(h)})"
                  for f, p, h in vectors)
firebase_rows = ",\n".join(
    f"  ({swift_string(k)}, {swift_string(sep)}, {r}, {m}, {swift_string(p)}, {swift_string(h)})"
    for k, sep, r, m, p, h in firebase_vectors)
versions = ", ".join(f"{name} {importlib.metadata.version(name)}"
                     for name in ["django", "passlib", "bcrypt", "firebase-scrypt",
                                  "pycryptodome", "cryptography"])
out = f"""// Generated by Scripts/generate-legacy-hash-vectors.py ({versions}). Do not edit.
// phpass, MD5-crypt and passlib scrypt by passlib; Django scrypt by Django's ScryptPasswordHasher;
// WordPress 6.8 `$wp$` by WordPress's documented construction (HMAC-SHA-384, base64, bcrypt $2y$);
// Firebase scrypt by firebase-scrypt, cross-checked with hashlib.scrypt and cryptography's AES-CTR.
// swift-format-ignore-file

/// (format, password, hash written by that system)
let legacy2PasswordHashVectors: [(format: String, password: String, hash: String)] = [
{rows},
]

/// (base64 signer key, base64 salt separator, rounds, mem_cost, password, wrapped hash): the
/// first is Firebase's published example.
let firebaseScryptVectors: [(
  signerKey: String, saltSeparator: String, rounds: Int, memoryCost: Int, password: String,
  hash: String
)] = [
{firebase_rows},
]
"""
path = (pathlib.Path(__file__).resolve().parent.parent
        / "Tests/UserManagementKitTests/Generated/PasswordHashVectors+Legacy2.swift")
path.write_text(out)
print(f"wrote {len(vectors)} + {len(firebase_vectors)} Firebase vectors to {path} ({versions})")

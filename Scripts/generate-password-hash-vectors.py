#!/usr/bin/env python3
"""Writes Tests/UserManagementKitTests/Generated/PasswordHashVectors.swift: password hashes
written by the systems UserManagementKit imports from, with the passwords that match them.

Each hash is produced by that system's own code where it is available on PyPI: Django's
hashers (PBKDF2, Argon2, bcrypt and bcrypt_sha256), passlib (PBKDF2-SHA1/256/512),
argon2-cffi (Argon2 PHC strings) and bcrypt (`$2a$`, `$2b$`, `$2y$`). ASP.NET Core Identity has no Python implementation, so its v2 and v3 blobs are
assembled here from its documented layout with hashlib.pbkdf2_hmac. Costs are small so the
debug-build tests stay fast. Salts are fixed, so the output is reproducible.

LDAP's `{SHA}`, `{SSHA}`, `{SSHA256}` and `{SSHA512}` come from passlib's ldap_* handlers;
SHA-crypt (`$5$`, `$6$`) from passlib's sha256_crypt and sha512_crypt, each checked against the
C library's crypt(3) when Python still has the `crypt` module (before 3.13). Drupal 7's `$S$`
has no Python implementation: the script computes it from Drupal's documented algorithm, checked
against hashcat's published Drupal 7 example hash, which is included too.

Usage (pinned versions; the venv lives under the ignored .build/):
  python3 -m venv .build/vectors-venv
  .build/vectors-venv/bin/pip install django==5.2.19 passlib==1.7.4 argon2-cffi==25.1.0 bcrypt==5.0.0
  .build/vectors-venv/bin/python Scripts/generate-password-hash-vectors.py
"""
import base64
import hashlib
import importlib.metadata
import pathlib
import struct
import unicodedata

import django
from django.conf import settings

settings.configure(USE_TZ=True)
django.setup()
from django.contrib.auth import hashers as dj  # noqa: E402
from passlib import hash as ph  # noqa: E402
import argon2  # noqa: E402
import bcrypt  # noqa: E402

try:  # the C library's crypt(3), to cross-check SHA-crypt (the module left Python in 3.13)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt as libc_crypt
except ImportError:
    libc_crypt = None

STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
HASH64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BCRYPT64 = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def bcrypt_salt(raw, cost, prefix="2b"):
    text = base64.b64encode(raw).decode().rstrip("=").translate(str.maketrans(STANDARD, BCRYPT64))
    return f"${prefix}${cost:02d}${text}".encode()

PASSWORDS = [
    "correct horse battery staple",
    "p",
    "pässwörd-ÄÖÜ",  # NFC
    "cafe\u0301 au lait",  # decomposed: legacy systems hashed these exact bytes
    "日本語のパスワード",
    "x" * 100,
]

vectors = []  # (format, password, hash)


class SmallDjangoArgon2(dj.Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 64
    parallelism = 2


for index, password in enumerate(PASSWORDS):
    salt_text = f"saltSALT{index:04d}xyz"
    vectors.append(("django-pbkdf2_sha256",
                    password, dj.PBKDF2PasswordHasher().encode(password, salt_text, iterations=1000)))
    vectors.append(("django-pbkdf2_sha1",
                    password, dj.PBKDF2SHA1PasswordHasher().encode(password, salt_text, iterations=700)))
    vectors.append(("django-argon2", password, SmallDjangoArgon2().encode(password, salt_text)))
    salt = bytes((index * 7 + i) % 256 for i in range(16))
    vectors.append(("passlib-pbkdf2-sha256", password,
                    ph.pbkdf2_sha256.using(rounds=1000, salt=salt).hash(password)))
    vectors.append(("passlib-pbkdf2-sha512", password,
                    ph.pbkdf2_sha512.using(rounds=500, salt=salt).hash(password)))
    vectors.append(("passlib-pbkdf2", password,
                    ph.pbkdf2_sha1.using(rounds=800, salt=salt).hash(password)))
    for variant, name in [(argon2.Type.ID, "argon2id"), (argon2.Type.I, "argon2i")]:
        hasher = argon2.PasswordHasher(time_cost=2, memory_cost=32, parallelism=1 + index % 2,
                                       hash_len=16 + index, salt_len=16, type=variant)
        vectors.append((name, password, hasher.hash(password, salt=salt)))
    raw = password.encode("utf-8")
    if len(raw) <= 72:  # bcrypt 5 refuses longer passwords
        prefix = ["2a", "2b", "2y"][index % 3]
        vectors.append(("bcrypt", password,
                        bcrypt.hashpw(raw, bcrypt_salt(salt, 4, prefix)).decode()))
        vectors.append(("django-bcrypt", password,
                        dj.BCryptPasswordHasher().encode(password, bcrypt_salt(salt[::-1], 4))))
    vectors.append(("django-bcrypt_sha256", password,
                    dj.BCryptSHA256PasswordHasher().encode(password, bcrypt_salt(salt, 5))))
    v2_key = hashlib.pbkdf2_hmac("sha1", raw, salt, 1000, 32)
    vectors.append(("aspnet-identity-v2", password,
                    base64.b64encode(b"\x00" + salt + v2_key).decode()))
    prf, name = [(0, "sha1"), (1, "sha256"), (2, "sha512")][index % 3]
    v3_key = hashlib.pbkdf2_hmac(name, raw, salt, 1000 + index, 32)
    blob = b"\x01" + struct.pack(">III", prf, 1000 + index, len(salt)) + salt + v3_key
    vectors.append(("aspnet-identity-v3", password, base64.b64encode(blob).decode()))

# The newer formats also get a password in both Unicode normal forms: these systems hash the
# bytes they were given, so each hash matches only its own spelling.
NORMAL_FORMS = [unicodedata.normalize("NFC", "päss wörd"), unicodedata.normalize("NFD", "päss wörd")]
assert NORMAL_FORMS[0] != NORMAL_FORMS[1]
MORE_PASSWORDS = PASSWORDS + NORMAL_FORMS

for index, password in enumerate(MORE_PASSWORDS):
    # LDAP userPassword schemes (passlib's ldap_* handlers), salts of 4 to 16 bytes.
    salt = bytes((index * 11 + i * 3) % 256 for i in range(4 + (index * 4) % 13))
    vectors.append(("ldap-sha", password, ph.ldap_sha1.hash(password)))
    vectors.append(("ldap-ssha", password, ph.ldap_salted_sha1.using(salt=salt).hash(password)))
    vectors.append(("ldap-ssha256", password,
                    ph.ldap_salted_sha256.using(salt=salt).hash(password)))
    vectors.append(("ldap-ssha512", password,
                    ph.ldap_salted_sha512.using(salt=salt).hash(password)))
    # SHA-crypt ($5$, $6$) by passlib, with rounds=5000 left implicit as crypt(3) does, and
    # checked against the C library's crypt(3) where Python still has the crypt module.
    rounds = [5000, 1000, 1234 + index][index % 3]
    crypt_salt = HASH64[index * 5 % 64:][:index * 2 + 2][:16] or "x"
    if index == len(MORE_PASSWORDS) - 1:
        crypt_salt = "./0123456789ABCDEFGHIJ"[:16]
    for name, handler in [("sha256-crypt", ph.sha256_crypt), ("sha512-crypt", ph.sha512_crypt)]:
        written = handler.using(rounds=rounds, salt=crypt_salt).hash(password)
        if libc_crypt is not None:
            assert libc_crypt.crypt(password, written) == written, (name, password)
        vectors.append((name, password, written))

# The examples of Drepper's specification ("Hello world!"; a salt over 16 characters is cut to
# 16), checked against passlib: two as printed there, two as passlib writes them.
PUBLISHED_SHA_CRYPT = [
    ("sha256-crypt", "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"),
    ("sha512-crypt", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
]
for name, published in PUBLISHED_SHA_CRYPT:
    handler = ph.sha256_crypt if name == "sha256-crypt" else ph.sha512_crypt
    assert handler.verify("Hello world!", published), published
    vectors.append((name, "Hello world!", published))
vectors.append(("sha256-crypt", "Hello world!",
                ph.sha256_crypt.using(salt="saltstring", rounds=5000).hash("Hello world!")))
vectors.append(("sha512-crypt", "Hello world!",
                ph.sha512_crypt.using(salt="saltstringsaltst", rounds=10000).hash("Hello world!")))


# Drupal 7's $S$ hashes. Drupal is PHP and passlib has no handler, so this is an independent
# implementation of includes/password.inc as documented: h = SHA-512(salt . password), then
# 2^log2 times h = SHA-512(h . password); phpass's base64; the first 55 characters kept.
def phpass_base64(data):
    out = []
    for start in range(0, len(data), 3):
        group = data[start:start + 3]
        value = int.from_bytes(group, "little")
        for _ in range(len(group) + 1):
            out.append(HASH64[value & 63])
            value >>= 6
    return "".join(out)


def drupal7_hash(password, salt, log2):
    raw = password.encode("utf-8")
    digest = hashlib.sha512(salt.encode("ascii") + raw).digest()
    for _ in range(1 << log2):
        digest = hashlib.sha512(digest + raw).digest()
    return ("$S$" + HASH64[log2] + salt + phpass_base64(digest))[:55]


# hashcat's published example hash for Drupal 7 (mode 7900), password "hashcat": it checks
# the implementation above, and is a vector of its own.
HASHCAT_DRUPAL7 = "$S$C33783772bRXEx1aCsvY.dqgaaSu76XmVlKrW9Qu8IQlvxHlmzLf"
assert drupal7_hash("hashcat", HASHCAT_DRUPAL7[4:12], HASH64.index(HASHCAT_DRUPAL7[3])) \
    == HASHCAT_DRUPAL7
vectors.append(("drupal7-sha512", "hashcat", HASHCAT_DRUPAL7))
for index, password in enumerate(MORE_PASSWORDS):
    salt = (HASH64[index * 7 % 64:] + HASH64)[:8]
    vectors.append(("drupal7-sha512", password, drupal7_hash(password, salt, 7 + index % 3)))


def swift_string(text):
    return '"' + "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else f"\\u{{{ord(c):X}}}"
        for c in text) + '"'


rows = ",\n".join(f"  ({swift_string(f)}, {swift_string(p)}, {swift_string(h)})"
                  for f, p, h in vectors)
versions = ", ".join(f"{name} {importlib.metadata.version(name)}"
                     for name in ["django", "passlib", "argon2-cffi", "bcrypt"])
if libc_crypt is not None:
    versions += ", SHA-crypt checked against crypt(3)"

out = f"""// Generated by Scripts/generate-password-hash-vectors.py ({versions}). Do not edit.
// swift-format-ignore-file

/// (format, password, hash written by that system)
let passwordHashVectors: [(format: String, password: String, hash: String)] = [
{rows},
]
"""
path = (pathlib.Path(__file__).resolve().parent.parent
        / "Tests/UserManagementKitTests/Generated/PasswordHashVectors.swift")
path.write_text(out)
print(f"wrote {len(vectors)} vectors to {path} ({versions})")

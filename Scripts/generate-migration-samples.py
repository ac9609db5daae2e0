#!/usr/bin/env python3
"""Writes realistic user exports of Keycloak, Auth0, Firebase, Django and ASP.NET Core Identity
to Tests/UserManagementKitTests/Migration/Samples/, and the same bytes as Swift string literals
to Tests/UserManagementKitTests/Migration/MigrationSamples.swift, with the plaintext passwords.

Each file has the shape its system documents for its export, and each hash is made by that
system's own algorithm, through the real library where one exists on PyPI:

- Keycloak realm export (`kc.sh export`): PBKDF2 by hashlib.pbkdf2_hmac (Keycloak's
  Pbkdf2PasswordHashProvider is PBKDF2 with the algorithm's HMAC, 256-bit keys for SHA-256,
  512-bit keys for SHA-1 and SHA-512), Argon2 by argon2-cffi's low-level API with Keycloak's
  defaults (id, 1.3, 7168 KiB, 5 iterations, parallelism 1, 32 bytes); secretData and
  credentialData are JSON strings, as Keycloak writes them.
- Auth0 user export (NDJSON) and bulk password-hash export (NDJSON, `$oid` ids): bcrypt by
  `bcrypt` (cost 10, Auth0's).
- Firebase `auth:export` (JSON and CSV): Firebase's modified scrypt computed per Firebase's
  published algorithm (github.com/firebase/scrypt): key = scrypt(password, salt ·
  salt separator, N = 2^mem_cost, r = rounds, p = 1, 32 bytes); hash = AES-256-CTR(key,
  IV = 0) of the signer key; hashlib.scrypt and `cryptography`. The hash configuration is
  the example Firebase's documentation publishes.
- Django `dumpdata auth.user auth.group`: Django's own make_password (PBKDF2-SHA256,
  Argon2, bcrypt_sha256), with costs lowered through Django's documented subclassing so
  the debug-build tests stay fast; the strings are byte-exact Django's.
- ASP.NET Core Identity `AspNetUsers` as CSV (CRLF, every field quoted, as SQL Server's
  export wizard writes with a text qualifier): v3 and v2 blobs assembled from Identity's
  documented PasswordHasher layout with hashlib.pbkdf2_hmac.

Salts are fixed, so the output is reproducible. Each sample has non-ASCII names and
passwords, a username that is not an e-mail address, a disabled account and an admin.

Usage (pinned versions; the venv lives under the ignored .build/):
  python3 -m venv .build/migration-venv
  .build/migration-venv/bin/pip install 'django==4.2.*' bcrypt==4.2.1 argon2-cffi==25.1.0 cryptography
  .build/migration-venv/bin/python Scripts/generate-migration-samples.py
"""
import base64
import hashlib
import json
import pathlib
import struct

import argon2.low_level
import bcrypt
import django
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests/UserManagementKitTests/Migration"
SAMPLES = OUT / "Samples"

PASSWORDS = {
    "ada": "Analytical-Engine-1843",
    "bjorn": "Grüße aus Köln, 2024!",
    "zoe": "пароль-надёжный-7",
    "kenji": "日本語のパスワード123",
    "kiosk": "kiosk-terminal-pass",
    "chloe": "Crème brûlée ☕ 42",
    "omar": "Sesame-Open-9",
}


def b64(data):
    return base64.b64encode(data).decode()


def fixed_salt(name, length=16):
    return hashlib.sha256(("salt:" + name).encode()).digest()[:length]


# Keycloak -----------------------------------------------------------------------------------

def keycloak_pbkdf2(name, algorithm, iterations):
    digest, key_bytes = {"pbkdf2": ("sha1", 64), "pbkdf2-sha256": ("sha256", 32),
                         "pbkdf2-sha512": ("sha512", 64)}[algorithm]
    salt = fixed_salt(name)
    value = hashlib.pbkdf2_hmac(digest, PASSWORDS[name].encode(), salt, iterations, key_bytes)
    return {
        "id": "cred-" + name, "type": "password", "createdDate": 1717171717000,
        "secretData": json.dumps({"value": b64(value), "salt": b64(salt),
                                  "additionalParameters": {}}, separators=(",", ":")),
        "credentialData": json.dumps({"hashIterations": iterations, "algorithm": algorithm,
                                      "additionalParameters": {}}, separators=(",", ":")),
    }


def keycloak_argon2(name):
    salt = fixed_salt(name)
    value = argon2.low_level.hash_secret_raw(
        PASSWORDS[name].encode(), salt, time_cost=5, memory_cost=7168, parallelism=1,
        hash_len=32, type=argon2.low_level.Type.ID, version=19)
    return {
        "id": "cred-" + name, "type": "password", "createdDate": 1717171717000,
        "secretData": json.dumps({"value": b64(value), "salt": b64(salt),
                                  "additionalParameters": {}}, separators=(",", ":")),
        "credentialData": json.dumps({"hashIterations": 5, "algorithm": "argon2",
                                      "additionalParameters": {
                                          "hashLength": ["32"], "memory": ["7168"],
                                          "type": ["id"], "version": ["1.3"],
                                          "parallelism": ["1"]}}, separators=(",", ":")),
    }


def keycloak():
    def user(uid, username, email, first, last, enabled, roles, groups, credential):
        entry = {"id": uid, "createdTimestamp": 1717171717000, "username": username,
                 "enabled": enabled, "totp": False, "emailVerified": email is not None}
        if email is not None:
            entry["email"] = email
        if first is not None:
            entry["firstName"] = first
        if last is not None:
            entry["lastName"] = last
        entry["credentials"] = [credential] if credential else []
        entry["disableableCredentialTypes"] = []
        entry["requiredActions"] = []
        entry["realmRoles"] = roles
        entry["notBefore"] = 0
        entry["groups"] = groups
        return entry

    users = [
        user("1c0e7a4e-0001", "ada", "ada@example.com", "Ada", "Lovelace", True,
             ["default-roles-acme", "realm-admin"], [],
             keycloak_pbkdf2("ada", "pbkdf2-sha256", 27500)),
        user("1c0e7a4e-0002", "bjorn.lindqvist@example.com", None, "Björn", "Lindqvist", True,
             ["default-roles-acme"], ["/staff"], keycloak_pbkdf2("bjorn", "pbkdf2-sha512", 30000)),
        user("1c0e7a4e-0003", "zoe", "zoe@example.com", "Zoë", "Иванова", True,
             ["default-roles-acme"], ["/staff", "/readers"],
             keycloak_pbkdf2("zoe", "pbkdf2", 20000)),
        user("1c0e7a4e-0004", "kenji", "kenji@example.jp", "健二", "山田", False,
             ["default-roles-acme"], ["/readers"], keycloak_argon2("kenji")),
        user("1c0e7a4e-0005", "kiosk-7", None, "Kiosk", "Seven", True,
             ["default-roles-acme"], [], keycloak_pbkdf2("kiosk", "pbkdf2-sha256", 27500)),
        {"id": "1c0e7a4e-0006", "createdTimestamp": 1717171717000,
         "username": "service-account-reporting", "enabled": True, "totp": False,
         "emailVerified": False, "serviceAccountClientId": "reporting", "credentials": [],
         "disableableCredentialTypes": [], "requiredActions": [],
         "realmRoles": ["default-roles-acme"], "notBefore": 0, "groups": []},
    ]
    realm = {"id": "acme", "realm": "acme", "enabled": True, "users": users}
    return json.dumps(realm, indent=2, ensure_ascii=False) + "\n"


# Auth0 --------------------------------------------------------------------------------------

def auth0():
    def bcrypt_hash(name):
        salt_chars = base64.b64encode(fixed_salt(name)).decode()
        # bcrypt's own alphabet: ./A-Za-z0-9; map the standard alphabet onto it.
        table = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                              "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        salt = ("$2b$10$" + salt_chars.translate(table)[:21] + "e").encode()
        return bcrypt.hashpw(PASSWORDS[name].encode(), salt).decode()

    people = [
        ("ada", "65f1a0000000000000000001", "ada@example.com", {"given_name": "Ada",
         "family_name": "Lovelace", "name": "Ada Lovelace", "app_metadata": {"roles": ["admin"]}}),
        ("chloe", "65f1a0000000000000000002", "chloe@example.fr",
         {"name": "Chloé Dubois-Martin", "app_metadata": {"roles": ["editors"]}}),
        ("zoe", "65f1a0000000000000000003", "zoe@example.com",
         {"name": "zoe@example.com", "blocked": True}),
        ("omar", "65f1a0000000000000000004", None, {"username": "omar", "name": "Omar Haddad"}),
        ("kenji", "65f1a0000000000000000005", "kenji@example.jp",
         {"given_name": "健二", "family_name": "山田", "name": "山田 健二"}),
    ]
    users, passwords = [], []
    for name, oid, email, extra in people:
        entry = {"user_id": "auth0|" + oid}
        if email:
            entry["email"] = email
            entry["email_verified"] = True
        entry.update(extra)
        entry["created_at"] = "2024-03-13T10:00:00.000Z"
        users.append(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))
        record = {"_id": {"$oid": oid}, "email_verified": bool(email)}
        if email:
            record["email"] = email
        record["passwordHash"] = bcrypt_hash(name)
        record["password_set_date"] = {"$date": "2024-03-13T10:00:00.000Z"}
        record["tenant"] = "acme"
        record["connection"] = "Username-Password-Authentication"
        record["_tmp_is_unique"] = True
        passwords.append(json.dumps(record, separators=(",", ":")))
    return "\n".join(users) + "\n", "\n".join(passwords) + "\n"


# Firebase -----------------------------------------------------------------------------------

# The example hash configuration of Firebase's documentation (firebase/scrypt README).
FIREBASE = {
    "signerKey": "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
    "saltSeparator": "Bw==", "rounds": 8, "memCost": 14,
}


def firebase_scrypt(password, salt):
    key = hashlib.scrypt(password.encode(), salt=salt + base64.b64decode(FIREBASE["saltSeparator"]),
                         n=2 ** FIREBASE["memCost"], r=FIREBASE["rounds"], p=1, dklen=32,
                         maxmem=128 * 1024 * 1024)
    encryptor = Cipher(algorithms.AES(key), modes.CTR(b"\x00" * 16)).encryptor()
    return encryptor.update(base64.b64decode(FIREBASE["signerKey"])) + encryptor.finalize()


def firebase():
    people = [
        ("ada", "aDa0000000000000000000000001", "ada@example.com", "Ada Lovelace", False),
        ("chloe", "cHl0000000000000000000000002", "chloe@example.fr", "Chloé Dubois-Martin", True),
        ("kenji", "kEn0000000000000000000000003", "kenji@example.jp", "山田 健二", False),
        ("omar", "oMa0000000000000000000000004", None, "Omar Haddad", False),
    ]
    users, rows = [], []
    for name, uid, email, display, disabled in people:
        salt = fixed_salt(name)
        digest = firebase_scrypt(PASSWORDS[name], salt)
        entry = {"localId": uid}
        if email:
            entry["email"] = email
            entry["emailVerified"] = True
        entry["passwordHash"] = b64(digest)
        entry["salt"] = b64(salt)
        entry["displayName"] = display
        entry["lastSignedInAt"] = "1717171717000"
        entry["createdAt"] = "1700000000000"
        entry["disabled"] = disabled
        entry["providerUserInfo"] = []
        if not email:
            entry["phoneNumber"] = "+15550100199"
        users.append(entry)
        # UID, Email, Email Verified, Password Hash, Password Salt, Name, Photo URL, Google ID,
        # Google Email, Google Display Name, Google Photo URL, Facebook ID, Facebook Email,
        # Facebook Display Name, Facebook Photo URL, Twitter ID, Twitter Email, Twitter
        # Display Name, Twitter Photo URL, GitHub ID, GitHub Email, GitHub Display Name,
        # GitHub Photo URL, User Creation Time, Last Sign-In Time, Phone Number
        fields = [uid, email or "", "true" if email else "false", b64(digest), b64(salt), display,
                  ""] + [""] * 16 + ["1700000000000", "1717171717000",
                                     "" if email else "+15550100199"]
        rows.append(",".join(csv_field(f) for f in fields))
    export = json.dumps({"users": users}, indent=2, ensure_ascii=False) + "\n"
    return export, "\n".join(rows) + "\n"


def csv_field(text):
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


# Django -------------------------------------------------------------------------------------

def django_dump():
    settings.configure(
        SECRET_KEY="samples", USE_TZ=True,
        PASSWORD_HASHERS=["__main__.FastPBKDF2", "__main__.FastArgon2", "__main__.FastBcryptSHA256"],
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"])
    django.setup()
    from django.contrib.auth import hashers

    class FastPBKDF2(hashers.PBKDF2PasswordHasher):
        iterations = 20000

    class FastArgon2(hashers.Argon2PasswordHasher):
        time_cost, memory_cost, parallelism = 2, 1024, 2

    class FastBcryptSHA256(hashers.BCryptSHA256PasswordHasher):
        rounds = 6

    import __main__
    __main__.FastPBKDF2, __main__.FastArgon2, __main__.FastBcryptSHA256 = (
        FastPBKDF2, FastArgon2, FastBcryptSHA256)

    def salt_text(name):
        return base64.b64encode(fixed_salt(name)).decode().rstrip("=").replace("+", "a").replace("/", "b")[:22]

    def make(name, hasher):
        if hasher == "bcrypt_sha256":
            # Django takes a bcrypt salt from bcrypt.gensalt(); a fixed one keeps the output
            # reproducible.
            salt = b"$2b$06$" + salt_text(name)[:21].encode() + b"e"
            return hashers.make_password(PASSWORDS[name], salt=salt, hasher=hasher)
        return hashers.make_password(PASSWORDS[name], salt=salt_text(name), hasher=hasher)

    def user(pk, name, username, email, first, last, active, staff, superuser, groups, password):
        return {"model": "auth.user", "pk": pk, "fields": {
            "password": password, "last_login": None, "is_superuser": superuser,
            "username": username, "first_name": first, "last_name": last, "email": email,
            "is_staff": staff, "is_active": active, "date_joined": "2024-03-13T10:00:00Z",
            "groups": groups, "user_permissions": []}}

    records = [
        {"model": "auth.group", "pk": 1, "fields": {"name": "Editors", "permissions": []}},
        {"model": "auth.group", "pk": 2, "fields": {"name": "Readers", "permissions": []}},
        user(1, "ada", "admin", "ada@example.com", "Ada", "Lovelace", True, True, True, [],
             make("ada", "pbkdf2_sha256")),
        user(2, "bjorn", "bjorn", "bjorn@example.se", "Björn", "Lindqvist", True, True, False,
             [1], make("bjorn", "argon2")),
        user(3, "zoe", "zoe@example.com", "", "Zoë", "Ivanova", False, False, False, [2],
             make("zoe", "bcrypt_sha256")),
        user(4, "kiosk", "kiosk-7", "", "", "", True, False, False, [],
             make("kiosk", "pbkdf2_sha256")),
        user(5, "kenji", "kenji", "kenji@example.jp", "健二", "山田", True, False, False, [1, 2],
             "!Xq3pUnusablePasswordMarker0123456789abcd"),
    ]
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


# ASP.NET Core Identity ----------------------------------------------------------------------

def aspnet_v3(name, prf, iterations):
    digest = {1: "sha256", 2: "sha512"}[prf]
    salt = fixed_salt(name)
    key = hashlib.pbkdf2_hmac(digest, PASSWORDS[name].encode(), salt, iterations, 32)
    return b64(b"\x01" + struct.pack(">III", prf, iterations, len(salt)) + salt + key)


def aspnet_v2(name):
    salt = fixed_salt(name)
    key = hashlib.pbkdf2_hmac("sha1", PASSWORDS[name].encode(), salt, 1000, 32)
    return b64(b"\x00" + salt + key)


def aspnet():
    header = ["Id", "UserName", "NormalizedUserName", "Email", "NormalizedEmail",
              "EmailConfirmed", "PasswordHash", "SecurityStamp", "ConcurrencyStamp",
              "PhoneNumber", "PhoneNumberConfirmed", "TwoFactorEnabled", "LockoutEnd",
              "LockoutEnabled", "AccessFailedCount"]

    def row(uid, username, email, password, lockout_end, phone=""):
        return [uid, username, username.upper(), email or "NULL",
                email.upper() if email else "NULL", "True" if email else "False", password,
                "Q3VSHTNT2TVXK2ZYK6L5ZJ3M" + uid[-4:], "7d4c2a3e-0c1b-4f5e-9a8b-" + uid[-12:],
                phone or "NULL", "False", "False", lockout_end or "NULL", "True", "0"]

    rows = [
        row("a5f0c2d4-0000-4000-8000-000000000001", "ada@example.com", "ada@example.com",
            aspnet_v3("ada", 2, 100000), None),
        row("a5f0c2d4-0000-4000-8000-000000000002", "bjorn@example.se", "bjorn@example.se",
            aspnet_v3("bjorn", 1, 10000), "2099-01-01 00:00:00.0000000 +00:00",
            "+46 (8) 555-0100, ext. 7"),
        row("a5f0c2d4-0000-4000-8000-000000000003", "chloe@example.fr", "chloe@example.fr",
            aspnet_v2("chloe"), "2020-06-01 12:00:00.0000000 +02:00"),
        row("a5f0c2d4-0000-4000-8000-000000000004", "legacy_admin", None,
            aspnet_v3("omar", 1, 10000), None),
    ]
    quoted = lambda fields: ",".join('"' + f.replace('"', '""') + '"' for f in fields)
    return "\r\n".join([",".join(header)] + [quoted(r) for r in rows]) + "\r\n"


# Output -------------------------------------------------------------------------------------

def swift_literal(name, text, doc):
    crlf = "\r\n" in text
    body = text.replace("\r\n", "\n")
    assert '"""#' not in body and not body.endswith("\n\n")
    lines = [f"  /// {doc}"]
    if crlf:
        lines.append(f'  static let {name} = lines(')
        lines.append('    #"""')
        lines.extend(("    " + l) if l else "" for l in body.rstrip("\n").split("\n"))
        lines.append('    """#, ending: "\\r\\n")')
    else:
        lines.append(f'  static let {name} = lines(')
        lines.append('    #"""')
        lines.extend(("    " + l) if l else "" for l in body.rstrip("\n").split("\n"))
        lines.append('    """#, ending: "\\n")')
    return "\n".join(lines)


def main():
    SAMPLES.mkdir(parents=True, exist_ok=True)
    auth0_users, auth0_passwords = auth0()
    firebase_json, firebase_csv = firebase()
    files = [
        ("keycloakRealm", "keycloak-realm-export.json", keycloak(),
         "`kc.sh export --realm acme` (realm file with users)."),
        ("auth0Users", "auth0-users.ndjson", auth0_users, "Auth0 user export job, NDJSON."),
        ("auth0Passwords", "auth0-passwords.ndjson", auth0_passwords,
         "Auth0 bulk password-hash export, NDJSON."),
        ("firebaseJSON", "firebase-users.json", firebase_json, "`firebase auth:export users.json`."),
        ("firebaseCSV", "firebase-users.csv", firebase_csv, "`firebase auth:export users.csv`."),
        ("djangoDump", "django-dumpdata.json", django_dump(),
         "`manage.py dumpdata auth.group auth.user --indent 2`."),
        ("aspnetUsersCSV", "aspnet-users.csv", aspnet(),
         "`AspNetUsers` exported as CSV with a header row, CRLF, every field quoted."),
    ]
    for _, filename, text, _ in files:
        (SAMPLES / filename).write_bytes(text.encode())
    out = [
        "// Generated by Scripts/generate-migration-samples.py; do not edit.",
        "// The same bytes are in Samples/; the passwords are the plaintexts of the hashes.",
        "",
        "enum MigrationSamples {",
        "  /// The plaintext password of each sample person, by short name.",
        "  static let passwords: [String: String] = [",
    ]
    out += [f'    "{k}": "{v}",' for k, v in PASSWORDS.items()]
    out += ["  ]", "",
            "  /// Firebase's example hash configuration, with which the Firebase samples were hashed.",
            "  static let firebaseSignerKey =",
            f'    "{FIREBASE["signerKey"]}"',
            f'  static let firebaseSaltSeparator = "{FIREBASE["saltSeparator"]}"',
            f'  static let firebaseRounds = {FIREBASE["rounds"]}',
            f'  static let firebaseMemoryCost = {FIREBASE["memCost"]}', ""]
    for name, _, text, doc in files:
        out.append(swift_literal(name, text, doc))
        out.append("")
    out += [
        "  /// The lines of a multi-line literal, each ended by `ending`, as the file has them.",
        "  private static func lines(_ text: String, ending: String) -> [UInt8] {",
        "    Array(",
        "      text.split(separator: \"\\n\", omittingEmptySubsequences: false)",
        "        .map { $0 + ending }.joined().utf8)",
        "  }",
        "}",
    ]
    (OUT / "MigrationSamples.swift").write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()

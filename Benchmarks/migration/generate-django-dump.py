#!/usr/bin/env python3
"""Writes a Django `dumpdata auth.user` export of N users, for timing `umk import --from django`.

Every user carries the same Django PBKDF2 hash string (the import parses hashes, never
verifies them), so the file measures reading, validation and the store's commit.

Usage:
  python3 Benchmarks/migration/generate-django-dump.py 1000000 /tmp/django-1m.json
  swift build -c release --package-path Examples/umk
  UMK=Examples/umk/.build/release/umk
  echo 'analytical engine 1843' | $UMK init --store /tmp/s1m --admin ada@example.com \
    --first Ada --last Lovelace --password-stdin
  /usr/bin/time -v $UMK import --from django /tmp/django-1m.json --store /tmp/s1m \
    --as ada@example.com
"""

import json
import sys


def main():
    count, path = int(sys.argv[1]), sys.argv[2]
    hash_ = "pbkdf2_sha256$1000$saltsaltsalt$" + "A" * 43 + "="
    with open(path, "w") as out:
        out.write("[")
        for index in range(count):
            if index:
                out.write(",")
            out.write(json.dumps({
                "model": "auth.user", "pk": index + 1,
                "fields": {
                    "password": hash_, "username": f"user{index}",
                    "email": f"user{index}@example.com", "first_name": "First",
                    "last_name": f"Last{index}", "is_active": True, "is_staff": False,
                    "is_superuser": False, "groups": [],
                },
            }))
        out.write("]")


if __name__ == "__main__":
    main()

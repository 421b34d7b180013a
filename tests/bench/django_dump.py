"""Writes what `manage.py dumpdata auth.user` prints for a project of COUNT users,
hashed by Django's own hashers at their default costs: the first PER users of each
hasher (`<hasher>_<i>`, password `pw-<hasher>-<i>`) have hashes of their own, the
rest (`bulk_<n>`) reuse those (an import parses hashes; it never verifies them).

usage: django_dump.py COUNT PER OUT
"""
import json
import sys

import django
from django.conf import settings

count, per, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
settings.configure(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.BCryptPasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ]
)
django.setup()
from django.contrib.auth.hashers import make_password  # noqa: E402

HASHERS = ["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "scrypt"]


def record(pk, username, password_hash):
    return {
        "model": "auth.user",
        "pk": pk,
        "fields": {
            "password": password_hash,
            "last_login": "2026-11-20T09:30:00.123Z",
            "is_superuser": False,
            "username": username,
            "first_name": "",
            "last_name": "",
            "email": f"{username}@example.com",
            "is_staff": False,
            "is_active": True,
            "date_joined": "2024-03-01T12:00:00Z",
            "groups": [],
            "user_permissions": [],
        },
    }


users, hashes = [], []
for h in HASHERS:
    for i in range(per):
        encoded = make_password(f"pw-{h}-{i}", hasher=h)
        hashes.append(encoded)
        users.append(record(len(users) + 1, f"{h}_{i}", encoded))
while len(users) < count:
    n = len(users)
    users.append(record(n + 1, f"bulk_{n}", hashes[n % len(hashes)]))
with open(out, "w") as f:
    json.dump(users, f)

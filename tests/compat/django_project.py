"""A real Django REST framework + simplejwt project, as a team moving to Tessera has
one: the pinned Django, DRF and simplejwt (with its blacklist app), an SQLite
database in FOLDER, users hashed by each of Django's hashers at Django's default
costs, simplejwt pairs issued to them, one refresh token blacklisted.

usage:
  django_project.py FOLDER build
      Makes the project's database and prints, as one JSON object: the project's
      SIGNING_KEY and SIMPLE_JWT settings (lifetimes in seconds), each user (username,
      password, pk, hasher, access, refresh), the blacklisted refresh token and the
      paths of `dumpdata auth.user` and `dumpdata token_blacklist`.
  django_project.py FOLDER authenticate TOKEN
      The project's own DB-backed JWTAuthentication (SIGNING_KEY, HS256) checks TOKEN
      against its database; prints the row's pk and username, or why it refused
      (exit status 1).
"""
import json
import os
import sys
from datetime import timedelta

import django
from django.conf import settings

folder, command = sys.argv[1], sys.argv[2]
SIGNING_KEY = "django-insecure-9x!k2#tessera-migration-test-key-0123456789"
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SIGNING_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}
HASHERS = ["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt", "scrypt"]

settings.configure(
    SECRET_KEY="unused-by-this-project-" + "x" * 32,
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "rest_framework",
        "rest_framework_simplejwt",
        "rest_framework_simplejwt.token_blacklist",
    ],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(folder, "project.sqlite3"),
        }
    },
    USE_TZ=True,
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.BCryptPasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ],
    SIMPLE_JWT=SIMPLE_JWT,
)
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402


def build():
    call_command("migrate", verbosity=0)
    users = []
    # Primary keys that are not Tessera's order: the project's own ids.
    for n, hasher in enumerate(HASHERS):
        password = f"{hasher}-pw-{n}!"
        u = User(
            pk=100 + 7 * n,
            username=f"user_{hasher}",
            email=f"{hasher}@example.com",
            is_staff=(n == 0),
            is_superuser=(n == 0),
        )
        u.password = make_password(password, hasher=hasher)
        u.save()
        users.append((u, password, hasher))
    nobody = User(pk=999, username="no_password")
    nobody.set_unusable_password()
    nobody.save()

    from rest_framework_simplejwt.tokens import RefreshToken

    out = []
    for u, password, hasher in users:
        refresh = RefreshToken.for_user(u)
        out.append(
            {
                "username": u.username,
                "password": password,
                "pk": u.pk,
                "hasher": hasher,
                "password_hash": u.password,
                "access": str(refresh.access_token),
                "refresh": str(refresh),
            }
        )
    # The first user logs out in the old system: that refresh token is blacklisted.
    doomed = RefreshToken.for_user(users[0][0])
    doomed_access = str(doomed.access_token)
    doomed.blacklist()

    users_file = os.path.join(folder, "users.json")
    blacklist_file = os.path.join(folder, "blacklist.json")
    call_command("dumpdata", "auth.user", output=users_file, verbosity=0)
    call_command("dumpdata", "token_blacklist", output=blacklist_file, verbosity=0)
    rendered = {
        k: (int(v.total_seconds()) if isinstance(v, timedelta) else list(v) if isinstance(v, tuple) else v)
        for k, v in SIMPLE_JWT.items()
        if k != "SIGNING_KEY"
    }
    simple_jwt_file = os.path.join(folder, "simple_jwt.json")
    with open(simple_jwt_file, "w") as f:
        json.dump(rendered, f)
    print(
        json.dumps(
            {
                "signing_key": SIGNING_KEY,
                "simple_jwt_file": simple_jwt_file,
                "users": out,
                "blacklisted_refresh": str(doomed),
                "blacklisted_access": doomed_access,
                "users_file": users_file,
                "blacklist_file": blacklist_file,
            }
        )
    )


def authenticate(token):
    from rest_framework.test import APIRequestFactory
    from rest_framework_simplejwt.authentication import JWTAuthentication

    request = APIRequestFactory().get("/protected", HTTP_AUTHORIZATION=f"Bearer {token}")
    try:
        user, validated = JWTAuthentication().authenticate(request)
    except Exception as e:  # the check reports any rejection
        print(f"rejected: {type(e).__name__}: {e}")
        sys.exit(1)
    print(user.pk, user.username)


if command == "build":
    build()
elif command == "authenticate":
    authenticate(sys.argv[3])
else:
    sys.exit(f"unknown command {command}")

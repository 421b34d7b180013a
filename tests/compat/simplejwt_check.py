"""Authenticates one request carrying a Tessera access token with an unmodified
Django REST framework + djangorestframework-simplejwt stack, configured only through
simplejwt's documented settings (ALGORITHM, JWK_URL, ISSUER, AUDIENCE).

usage: simplejwt_check.py ALGORITHM JWK_URL ISSUER AUDIENCE TOKEN
Prints the authenticated user id and exits 0, or prints why and exits 1.
"""
import sys

import django
from django.conf import settings

alg, jwk_url, issuer, audience, token = sys.argv[1:6]
settings.configure(
    SECRET_KEY="unused-by-this-check",
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "rest_framework",
        "rest_framework_simplejwt",
    ],
    DATABASES={},
    SIMPLE_JWT={
        "ALGORITHM": alg,
        "JWK_URL": jwk_url,
        "ISSUER": issuer,
        "AUDIENCE": audience,
        "SIGNING_KEY": "",
        "VERIFYING_KEY": "",
    },
)
django.setup()

from rest_framework.test import APIRequestFactory  # noqa: E402
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication  # noqa: E402

request = APIRequestFactory().get("/protected", HTTP_AUTHORIZATION=f"Bearer {token}")
try:
    user, validated = JWTStatelessUserAuthentication().authenticate(request)
except Exception as e:  # the check reports any rejection
    print(f"rejected: {type(e).__name__}: {e}")
    sys.exit(1)
print(user.id, validated["token_type"])

"""Verifies a wxlogin access token the way a team's Python service does: with PyJWT and
nothing but wxlogin's JWKS URL. See docs/integrate.md.

    WXLOGIN_URL=https://login.example.com WXLOGIN_AUDIENCE=orders python verify.py <token>

prints the token's claims as JSON, or why it was refused (and exits 1).
"""

import json
import os
import sys

import jwt

WXLOGIN_URL = os.environ.get("WXLOGIN_URL", "http://127.0.0.1:8080")
# This service's name in wxlogin's TOKEN_AUDIENCE; leave unset only if wxlogin sets none.
AUDIENCE = os.environ.get("WXLOGIN_AUDIENCE") or None

# Keeps the keys for five minutes, and fetches them again when a token names a key id it does
# not hold (after a key rotation).
jwks = jwt.PyJWKClient(f"{WXLOGIN_URL}/.well-known/jwks.json", lifespan=300)


def verify_token(token: str) -> dict:
    """The claims of `token` if wxlogin signed it for this service and it has not expired."""
    key = jwks.get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        key,
        algorithms=["EdDSA"],  # the token's header never chooses the algorithm
        issuer="wxlogin",
        audience=AUDIENCE,
        leeway=30,  # wxlogin's own leeway past exp, so both agree to the second
        options={"require": ["exp", "iss", "sub", "sid"]},
    )


if __name__ == "__main__":
    try:
        print(json.dumps(verify_token(sys.argv[1] if len(sys.argv) > 1 else "")))
    except jwt.PyJWTError as err:
        print(f"refused: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(1)

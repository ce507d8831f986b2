"""Who may call the HTTP API: bearer tokens from `[http] tokens`, each read or write.

Tokens are compared in constant time (hmac.compare_digest against every configured token,
no early exit), so response timing does not reveal how much of a guess was right.

`Auth` turns a request into a scope through a list of *credential extractors*, functions
`(request) -> token or None` tried in order. The API registers one (the `Authorization:
Bearer` header); the dashboard adds its own (HTTP basic with the token as password, a
session cookie) with `auth.extractors.append(...)` and gets the same token check and the
same scopes. A route declares what it needs with `Depends(require("read"))` or
`Depends(require("write"))`: no or an unknown token -> 401, a read token writing -> 403.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

SCOPES = {"read": 1, "write": 2}   # write implies read


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: its scope and the token's name (for the history's actor)."""

    scope: str
    name: str

    def may(self, scope: str) -> bool:
        return SCOPES[self.scope] >= SCOPES[scope]


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (RFC 6750 section 2.1)."""
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class Auth:
    """The configured tokens and the ways a request may carry one."""

    def __init__(self, tokens) -> None:
        # (token bytes, scope, name); name defaults to "token N" so logs never show a token.
        self._tokens = [(t["token"].encode(), t["scope"], t.get("name") or f"token{i + 1}")
                        for i, t in enumerate(tokens)]
        self.extractors: list[Callable[[Request], str | None]] = [bearer_token]

    def check(self, token: str | None) -> Principal | None:
        """The principal a token stands for, or None; constant time in the token's value."""
        if token is None:
            return None
        given = token.encode("utf-8", "surrogateescape")
        found = None
        for value, scope, name in self._tokens:
            if hmac.compare_digest(given, value) and found is None:
                found = Principal(scope, name)
        return found

    def authenticate(self, request: Request) -> Principal | None:
        """The principal of the first credential a request carries that checks out."""
        for extract in self.extractors:
            principal = self.check(extract(request))
            if principal is not None:
                return principal
        return None


# Declared for the OpenAPI document (the security scheme); the check itself is Auth's.
_bearer = HTTPBearer(auto_error=False, description="a token from [http] tokens")


def require(scope: str):
    """A FastAPI dependency: the caller's Principal, or 401 / 403."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def dependency(request: Request,
                   _: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
        principal = request.app.state.auth.authenticate(request)
        if principal is None:
            raise HTTPException(401, "missing or unknown token",
                                headers={"WWW-Authenticate": "Bearer"})
        if not principal.may(scope):
            raise HTTPException(403, f"this token may not {scope}")
        return principal
    return dependency

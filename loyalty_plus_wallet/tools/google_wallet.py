"""Google Wallet (walletobjects v1): service-account OAuth2 tokens, REST calls and save links."""

import json
import threading
import time

import jwt
import requests

from .retry import (
    RETRY_ATTEMPTS,
    RateLimiter,
    TransientError,
    call_with_backoff,
    is_transient_status,
    parse_retry_after,
)

GOOGLE_API_URL = "https://walletobjects.googleapis.com/walletobjects/v1"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
GOOGLE_SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
GOOGLE_SAVE_URL = "https://pay.google.com/gp/v/save/"
# Browsers cut longer URLs; a save JWT naming only an object id stays far below.
MAX_SAVE_URL_LENGTH = 1800
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
REQUEST_TIMEOUT = 20
# a customer waits on the save link: one short try, the cron does the patient retries
INTERACTIVE_TIMEOUT = 8
RATE_LIMITER = RateLimiter(rate=20)

# access tokens per (service account, token URL): {key: (token, expires_at)}
_token_cache = {}
_token_lock = threading.Lock()


class GoogleWalletError(Exception):
    def __init__(self, message, status=None, body=None):
        super().__init__(message)
        self.status = status
        self.body = body


def parse_service_account(text):
    """The service-account key (JSON text) as a dict with the keys we need; ValueError otherwise."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as error:
        raise ValueError("not JSON") from error
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    missing = [key for key in ("client_email", "private_key") if not data.get(key)]
    if missing:
        raise ValueError("missing " + ", ".join(missing))
    return data


def clear_token_cache():
    with _token_lock:
        _token_cache.clear()


class GoogleWalletClient:
    def __init__(
        self,
        service_account,
        issuer_id,
        api_url=None,
        token_url=None,
        retry_base_delay=1.0,
        retry_attempts=RETRY_ATTEMPTS,
        timeout=REQUEST_TIMEOUT,
    ):
        self.account = service_account
        self.issuer_id = issuer_id
        self.api_url = (api_url or GOOGLE_API_URL).rstrip("/")
        self.token_url = token_url or service_account.get("token_uri") or GOOGLE_TOKEN_URL
        self.retry_base_delay = retry_base_delay
        self.retry_attempts = retry_attempts
        self.timeout = timeout
        self.session = requests.Session()

    # ------------------------------------------------------------------ auth

    def _jwt_headers(self):
        key_id = self.account.get("private_key_id")
        return {"kid": key_id} if key_id else None

    def make_assertion(self, now=None):
        """The RS256 JWT a service account trades for an access token (RFC 7523)."""
        now = int(now or time.time())
        claims = {
            "iss": self.account["client_email"],
            "scope": GOOGLE_SCOPE,
            "aud": self.token_url,
            "iat": now,
            "exp": now + 3600,
        }
        return jwt.encode(claims, self.account["private_key"], algorithm="RS256", headers=self._jwt_headers())

    def get_access_token(self, force=False):
        """A cached OAuth2 access token, renewed a minute before it expires."""
        cache_key = (self.account["client_email"], self.account.get("private_key_id"), self.token_url)
        with _token_lock:
            cached = _token_cache.get(cache_key)
            if cached and not force and cached[1] - 60 > time.time():
                return cached[0]

        def fetch():
            try:
                response = self.session.post(
                    self.token_url,
                    data={"grant_type": JWT_BEARER_GRANT, "assertion": self.make_assertion()},
                    timeout=self.timeout,
                )
            except requests.RequestException as error:
                raise TransientError(str(error)) from error
            if is_transient_status(response.status_code):
                raise TransientError(
                    f"token endpoint answered {response.status_code}",
                    response.status_code,
                    parse_retry_after(response.headers.get("Retry-After")),
                )
            return response

        response = call_with_backoff(fetch, self.retry_base_delay, self.retry_attempts, what="Google OAuth token")
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if response.status_code != 200 or not payload.get("access_token"):
            raise GoogleWalletError(
                "OAuth token refused: {} {}".format(response.status_code, payload.get("error_description") or ""),
                response.status_code,
                payload,
            )
        token = payload["access_token"]
        with _token_lock:
            _token_cache[cache_key] = (token, time.time() + int(payload.get("expires_in", 3600)))
        return token

    # ------------------------------------------------------------------ REST

    def request(self, method, path, body=None):
        """One REST call, rate limited, retried with backoff on 429/5xx; returns ``(status, json)``."""

        def send():
            RATE_LIMITER.wait()
            headers = {"Authorization": f"Bearer {self.get_access_token()}"}
            try:
                response = self.session.request(
                    method, f"{self.api_url}/{path}", json=body, headers=headers, timeout=self.timeout
                )
            except requests.RequestException as error:
                raise TransientError(str(error)) from error
            if response.status_code == 401:
                # token revoked or expired early: renew it once
                headers["Authorization"] = f"Bearer {self.get_access_token(force=True)}"
                response = self.session.request(
                    method, f"{self.api_url}/{path}", json=body, headers=headers, timeout=self.timeout
                )
            if is_transient_status(response.status_code):
                raise TransientError(
                    f"{method} {path} answered {response.status_code}",
                    response.status_code,
                    parse_retry_after(response.headers.get("Retry-After")),
                )
            return response

        response = call_with_backoff(send, self.retry_base_delay, self.retry_attempts, what=f"Google {method} {path}")
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        return response.status_code, payload

    def _check(self, status, payload, what):
        if status >= 400:
            message = (payload.get("error") or {}).get("message") if isinstance(payload, dict) else None
            raise GoogleWalletError(f"{what}: HTTP {status} {message or ''}".strip(), status, payload)
        return payload

    def insert(self, resource, body):
        """Insert ``body`` (a loyaltyClass/loyaltyObject); GoogleWalletError (409) when it exists."""
        status, payload = self.request("POST", resource, body)
        return self._check(status, payload, f"{resource} {body['id']}")

    def update(self, resource, body):
        """Replace the whole resource with ``body`` (PUT): a field left out of ``body`` is cleared,
        where a PATCH would keep Google's old value (e.g. the points of a program that dropped them).
        GoogleWalletError (404) when Google does not have it."""
        status, payload = self.request("PUT", f"{resource}/{body['id']}", body)
        return self._check(status, payload, f"{resource} {body['id']}")

    def upsert(self, resource, body):
        """Insert ``body``, or replace it when it already exists (409)."""
        status, payload = self.request("POST", resource, body)
        if status == 409:
            status, payload = self.request("PUT", f"{resource}/{body['id']}", body)
        return self._check(status, payload, f"{resource} {body['id']}")

    def list_classes(self):
        """The issuer's loyalty classes: proves the service account may act for this issuer
        (Google answers 403, or 404 for an unknown issuer, when it may not)."""
        status, payload = self.request("GET", f"loyaltyClass?issuerId={self.issuer_id}")
        return self._check(status, payload, f"issuer {self.issuer_id}")

    # ------------------------------------------------------------------ save link

    def make_save_jwt(self, object_id, origins, now=None):
        """The "Add to Google Wallet" JWT: it names the object created beforehand, nothing more."""
        claims = {
            "iss": self.account["client_email"],
            "aud": "google",
            "typ": "savetowallet",
            "iat": int(now or time.time()),
            "origins": list(origins),
            "payload": {"loyaltyObjects": [{"id": object_id}]},
        }
        return jwt.encode(claims, self.account["private_key"], algorithm="RS256", headers=self._jwt_headers())

    def make_save_url(self, object_id, origins):
        url = GOOGLE_SAVE_URL + self.make_save_jwt(object_id, origins)
        if len(url) >= MAX_SAVE_URL_LENGTH:
            raise GoogleWalletError(f"save link of {len(url)} characters is too long for browsers")
        return url

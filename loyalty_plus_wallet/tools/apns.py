"""Apple Push Notification service for Wallet passes: HTTP/2 over TLS with the pass certificate."""

import os
import re
import ssl
import tempfile

import httpx

from .retry import TransientError, call_with_backoff, is_transient_status, parse_retry_after

APNS_HOST = "api.push.apple.com"
# Wallet ignores the payload: an empty dictionary only tells the device to ask the web service.
APNS_PAYLOAD = b"{}"
APNS_PUSH_TYPE = "background"
APNS_PRIORITY = "5"  # background pushes must use priority 5
REQUEST_TIMEOUT = 15
# a device token is hex: anything else can never reach a device (and would break the request URL)
DEVICE_TOKEN_RE = re.compile(r"[0-9a-fA-F]{32,200}")


class ApnsResult:
    """One push's answer; ``retry_after``: the seconds APNs asked to wait (Retry-After), if it did."""

    __slots__ = ("reason", "retry_after", "status", "token")

    def __init__(self, token, status, reason, retry_after=None):
        self.token = token
        self.status = status
        self.reason = reason
        self.retry_after = retry_after

    @property
    def ok(self):
        return self.status == 200

    @property
    def token_dead(self):
        """APNs says this device token will never work again: forget the registration."""
        return self.status == 410 or self.reason in ("BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic")

    def __repr__(self):
        return f"ApnsResult({self.token!r}, {self.status}, {self.reason!r})"


def make_tls_context(certificate_pem, key_pem, password=None, ca_file=None):
    """A TLS context that presents the Pass Type ID certificate and negotiates HTTP/2 (ALPN h2)."""
    context = ssl.create_default_context(cafile=ca_file)
    context.set_alpn_protocols(["h2"])
    # ssl only loads client certificates from files: write them for the time of the call
    with tempfile.TemporaryDirectory(prefix="lp_apns_") as folder:
        cert_path = os.path.join(folder, "cert.pem")
        key_path = os.path.join(folder, "key.pem")
        for path, content in ((cert_path, certificate_pem), (key_path, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(content)
        context.load_cert_chain(cert_path, key_path, password=password or None)
    return context


class ApnsClient:
    def __init__(self, topic, tls_context, host=APNS_HOST, retry_base_delay=1.0):
        self.topic = topic
        self.base_url = f"https://{host}"
        self.retry_base_delay = retry_base_delay
        # http1=False: APNs speaks HTTP/2 only
        self.client = httpx.Client(http1=False, http2=True, verify=tls_context, timeout=REQUEST_TIMEOUT)

    def close(self):
        self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def push(self, token):
        """Tell the device behind ``token`` that its pass changed; retried with backoff on 429/5xx."""
        if not isinstance(token, str) or not DEVICE_TOKEN_RE.fullmatch(token):
            # answered like APNs would, so that the registration is dropped instead of retried forever
            return ApnsResult(token, 400, "BadDeviceToken")
        headers = {
            "apns-topic": self.topic,
            "apns-push-type": APNS_PUSH_TYPE,
            "apns-priority": APNS_PRIORITY,
            "content-type": "application/json",
        }

        def send():
            try:
                response = self.client.post(f"{self.base_url}/3/device/{token}", content=APNS_PAYLOAD, headers=headers)
            except httpx.TransportError as error:
                raise TransientError(str(error)) from error
            if is_transient_status(response.status_code):
                raise TransientError(
                    f"APNs answered {response.status_code}",
                    response.status_code,
                    parse_retry_after(response.headers.get("Retry-After")),
                )
            return response

        try:
            response = call_with_backoff(send, self.retry_base_delay, what="APNs push")
        except TransientError as error:
            return ApnsResult(token, error.status or 0, str(error), error.retry_after)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            # a request httpx refuses to build or send: retrying cannot help, the pass stays queued
            return ApnsResult(token, 0, f"{type(error).__name__}: {error}")
        reason = None
        if response.status_code != 200:
            try:
                reason = response.json().get("reason")
            except ValueError:
                reason = response.text[:200]
        return ApnsResult(token, response.status_code, reason)

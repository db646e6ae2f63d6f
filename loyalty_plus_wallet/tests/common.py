"""Throwaway PKI, service account and local stand-ins for Google Wallet and APNs (no network)."""

import datetime
import http.server
import ipaddress
import json
import os
import socket
import ssl
import tempfile
import threading
import urllib.parse

import h2.config
import h2.connection
import h2.events
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from odoo.addons.loyalty_plus.tests.common import LoyaltyPlusCase

from ..tools.google_wallet import clear_token_cache

PASS_TYPE_ID = "pass.lu.test.loyalty"
TEAM_ID = "AB12CD34EF"
ISSUER_ID = "3388000000012345678"
OTHER_ISSUER_ID = "3388000000087654321"


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(obj):
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM).decode()
    return obj.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _cert(subject, key, issuer, issuer_key, ca=False, extensions=()):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_pki(pass_type_id=PASS_TYPE_ID, team_id=TEAM_ID):
    """Root CA -> WWDR stand-in -> Pass Type ID certificate, plus a 127.0.0.1 server certificate."""
    root_key, wwdr_key, pass_key, server_key = _key(), _key(), _key(), _key()
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Root CA")])
    root = _cert(root_name, root_key, root_name, root_key, ca=True)
    wwdr_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Test WWDR Intermediate"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Apple"),
        ]
    )
    wwdr = _cert(wwdr_name, wwdr_key, root_name, root_key, ca=True)
    pass_name = x509.Name(
        [
            x509.NameAttribute(NameOID.USER_ID, pass_type_id),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Pass Type ID: {pass_type_id}"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, team_id),
        ]
    )
    pass_cert = _cert(
        pass_name,
        pass_key,
        wwdr_name,
        wwdr_key,
        extensions=[x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.CODE_SIGNING])],
    )
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    server = _cert(
        server_name,
        server_key,
        root_name,
        root_key,
        extensions=[
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
        ],
    )
    return {
        "root": _pem(root),
        "wwdr": _pem(wwdr),
        "certificate": _pem(pass_cert),
        "key": _pem(pass_key),
        "key_object": pass_key,
        "server_certificate": _pem(server),
        "server_key": _pem(server_key),
    }


def make_service_account(token_uri):
    key = _key()
    account = {
        "type": "service_account",
        "project_id": "lp-test",
        "private_key_id": "kid-test-1",
        "private_key": _pem(key),
        "client_email": "wallet@lp-test.iam.gserviceaccount.com",
        "token_uri": token_uri,
    }
    return account, key


# ---------------------------------------------------------------------- Google stand-in


class GoogleStandIn:
    """Plain HTTP server answering like walletobjects v1 and Google's token endpoint; records all.

    As strict as Google where our code could go wrong: the token endpoint checks the service
    account's signed assertion, the API wants a token it issued, an object needs its class, PUT
    replaces the whole resource (PATCH merges), and only the issuers in ``issuers`` may be used."""

    def __init__(self):
        self.requests = []
        self.objects = {}
        # "METHOD path" -> [status or (status, headers), ...] answered first, one per request
        self.script = {}
        self.token_count = 0
        self.accounts = {}  # client_email -> public key allowed to sign assertions
        self.issuers = set()
        self.tokens = set()
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                url = urllib.parse.urlsplit(self.path)
                record = {
                    "method": self.command,
                    "path": url.path,
                    "query": url.query,
                    "headers": dict(self.headers),
                    "raw": raw,
                }
                stand_in.requests.append(record)
                status, body, headers = stand_in._answer(self.command, url, raw, self.headers)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reset(self):
        self.requests.clear()
        self.script.clear()
        self.objects.clear()
        self.tokens.clear()
        self.token_count = 0

    @staticmethod
    def _error(status, message, headers=None):
        return status, {"error": {"code": status, "message": message}}, headers or {}

    def _answer(self, method, url, raw, headers):
        scripted = self.script.get(f"{method} {url.path}")
        if scripted:
            answer = scripted.pop(0)
            status, extra = answer if isinstance(answer, tuple) else (answer, {})
            return self._error(status, "scripted", extra)
        if url.path == "/token":
            return self._token(raw)
        if headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return self._error(401, "Request had invalid authentication credentials.")
        parts = url.path.split("/")  # /walletobjects/v1/<resource>[/<id>]
        resource = parts[3] if len(parts) > 3 else ""
        resource_id = parts[4] if len(parts) > 4 else None
        if method == "GET" and resource_id is None:
            issuer = urllib.parse.parse_qs(url.query).get("issuerId", [""])[0]
            if issuer not in self.issuers:
                return self._error(403, f"The caller does not have permission on issuer {issuer}")
            found = [body for (kind, _id), body in self.objects.items() if kind == resource]
            return 200, {"resources": found}, {}
        body = json.loads(raw or b"{}")
        object_id = resource_id or body.get("id") or ""
        if object_id.split(".", 1)[0] not in self.issuers:
            return self._error(403, "The caller does not have permission")
        key = (resource, object_id)
        if method == "POST":
            if key in self.objects:
                return self._error(409, "exists")
            if resource == "loyaltyObject" and ("loyaltyClass", body.get("classId")) not in self.objects:
                return self._error(404, f"Resource not found: class {body.get('classId')}")
            self.objects[key] = body
            return 200, body, {}
        if key not in self.objects:
            return self._error(404, "not found")
        if method == "PUT":
            self.objects[key] = body
        elif method == "PATCH":
            self.objects[key].update(body)
        return 200, self.objects[key], {}

    def _token(self, raw):
        """RFC 7523: a jwt-bearer grant whose assertion a known service account signed for this URL."""
        form = urllib.parse.parse_qs(raw.decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return 400, {"error": "unsupported_grant_type"}, {}
        assertion = (form.get("assertion") or [""])[0]
        try:
            issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
            key = self.accounts.get(issuer)
            if key is None:
                raise jwt.InvalidTokenError(f"unknown service account {issuer}")
            claims = jwt.decode(assertion, key, algorithms=["RS256"], audience=f"{self.url}/token")
            if claims.get("scope") != "https://www.googleapis.com/auth/wallet_object.issuer":
                raise jwt.InvalidTokenError("wrong scope")
        except jwt.InvalidTokenError as error:
            return 400, {"error": "invalid_grant", "error_description": str(error)}, {}
        self.token_count += 1
        token = f"access-{self.token_count}"
        self.tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}, {}

    def api_requests(self):
        return [r for r in self.requests if r["path"] != "/token"]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------- APNs stand-in


class ApnsStandIn:
    """An HTTP/2-only TLS server that demands a client certificate, like api.push.apple.com."""

    def __init__(self, pki):
        self.requests = []
        self.script = {}  # device token -> [(status, reason) or (status, reason, headers), ...]; then 200
        self.folder = tempfile.mkdtemp(prefix="lp_apns_standin_")
        cert, key = os.path.join(self.folder, "server.pem"), os.path.join(self.folder, "server.key")
        with open(cert, "w") as f:
            f.write(pki["server_certificate"])
        with open(key, "w") as f:
            f.write(pki["server_key"])
        self.ca_file = os.path.join(self.folder, "root.pem")
        with open(self.ca_file, "w") as f:
            f.write(pki["root"])
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.context.load_verify_locations(cadata=pki["root"] + pki["wwdr"])
        self.context.set_alpn_protocols(["h2"])
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.host = f"127.0.0.1:{self.port}"
        self.closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            conn.close()
            return
        peer = tls.getpeercert()
        protocol = tls.selected_alpn_protocol()
        h2conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        h2conn.initiate_connection()
        tls.sendall(h2conn.data_to_send())
        streams = {}
        try:
            while True:
                data = tls.recv(65535)
                if not data:
                    break
                for event in h2conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        streams[event.stream_id] = {"headers": dict(event.headers), "body": b""}
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id]["body"] += event.data
                        h2conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        self._respond(h2conn, event.stream_id, streams.pop(event.stream_id), peer, protocol)
                tls.sendall(h2conn.data_to_send())
        except (ssl.SSLError, OSError):
            pass
        finally:
            tls.close()

    def _respond(self, h2conn, stream_id, stream, peer, protocol):
        headers = {k.decode(): v.decode() for k, v in stream["headers"].items()}
        token = headers.get(":path", "").rsplit("/", 1)[-1]
        subject = dict(item[0] for item in peer.get("subject", ()))
        self.requests.append({"headers": headers, "body": stream["body"], "peer": subject, "alpn": protocol})
        scripted = self.script.get(token)
        status, reason, *extra = scripted.pop(0) if scripted else (200, None)
        body = json.dumps({"reason": reason}).encode() if reason else b""
        response = [(":status", str(status)), ("apns-id", f"id-{len(self.requests)}")]
        response += [(name.lower(), str(value)) for name, value in (extra[0] if extra else {}).items()]
        if body:
            response.append(("content-type", "application/json"))
        h2conn.send_headers(stream_id, response, end_stream=not body)
        if body:
            h2conn.send_data(stream_id, body, end_stream=True)

    def close(self):
        self.closed = True
        self.sock.close()


class WalletCase(LoyaltyPlusCase):
    """The bakery (hybrid program) with throwaway Apple and Google credentials."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pki = make_pki()
        cls.google = GoogleStandIn()
        cls.addClassCleanup(cls.google.close)
        cls.service_account, cls.google_key = make_service_account(f"{cls.google.url}/token")
        cls.google.accounts[cls.service_account["client_email"]] = cls.google_key.public_key()
        cls.google.issuers.update({ISSUER_ID, OTHER_ISSUER_ID})
        cls.env["ir.config_parameter"].sudo().set_param(
            "loyalty_plus_wallet.google_api_url", f"{cls.google.url}/walletobjects/v1"
        )
        cls.bakery.write(
            {
                "loyalty_plus_wallet_apple_pass_type_id": PASS_TYPE_ID,
                "loyalty_plus_wallet_apple_team_id": TEAM_ID,
                "loyalty_plus_wallet_apple_certificate": cls.pki["certificate"],
                "loyalty_plus_wallet_apple_key": cls.pki["key"],
                "loyalty_plus_wallet_apple_wwdr": cls.pki["wwdr"],
                "loyalty_plus_wallet_google_issuer_id": ISSUER_ID,
                "loyalty_plus_wallet_google_service_account": json.dumps(cls.service_account),
            }
        )
        cls.Pass = cls.env["loyalty_plus.wallet_pass"].with_context(loyalty_plus_wallet_retry_base_delay=0.01)

    @classmethod
    def _serve_apns(cls):
        """The stand-in APNs server on 127.0.0.1, made the server the pushes go to."""
        cls.apns = ApnsStandIn(cls.pki)
        cls.addClassCleanup(cls.apns.close)
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param("loyalty_plus_wallet.apns_host", cls.apns.host)
        params.set_param("loyalty_plus_wallet.apns_ca_file", cls.apns.ca_file)

    def setUp(self):
        super().setUp()
        clear_token_cache()
        self.google.reset()

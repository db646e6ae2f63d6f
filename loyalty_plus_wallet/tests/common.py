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
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from odoo.addons.loyalty_plus.tests.common import LoyaltyPlusCase

from ..tools.google_wallet import clear_token_cache

PASS_TYPE_ID = "pass.lu.test.loyalty"
TEAM_ID = "AB12CD34EF"
ISSUER_ID = "3388000000012345678"


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
    """Plain HTTP server answering like walletobjects v1 and Google's token endpoint; records all."""

    def __init__(self):
        self.requests = []
        self.objects = {}
        self.script = {}  # "METHOD path" -> [status, ...] answered first, one per request
        self.token_count = 0
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = urllib.parse.urlsplit(self.path).path
                record = {"method": self.command, "path": path, "headers": dict(self.headers), "raw": raw}
                stand_in.requests.append(record)
                status, body = stand_in._answer(self.command, path, raw)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _answer(self, method, path, raw):
        scripted = self.script.get(f"{method} {path}")
        if scripted:
            status = scripted.pop(0)
            return status, {"error": {"code": status, "message": "scripted"}}
        if path == "/token":
            self.token_count += 1
            return 200, {"access_token": f"access-{self.token_count}", "expires_in": 3600, "token_type": "Bearer"}
        parts = path.split("/")  # /walletobjects/v1/<resource>[/<id>]
        resource = parts[3] if len(parts) > 3 else ""
        body = json.loads(raw or b"{}")
        if method == "POST":
            if (resource, body.get("id")) in self.objects:
                return 409, {"error": {"code": 409, "message": "exists"}}
            self.objects[(resource, body["id"])] = body
            return 200, body
        if method == "PATCH":
            key = (resource, parts[4] if len(parts) > 4 else "")
            if key not in self.objects:
                return 404, {"error": {"code": 404, "message": "not found"}}
            self.objects[key].update(body)
            return 200, self.objects[key]
        return 404, {}

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
        self.script = {}  # device token -> [(status, reason), ...]; then 200
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
        status, reason = scripted.pop(0) if scripted else (200, None)
        body = json.dumps({"reason": reason}).encode() if reason else b""
        response = [(":status", str(status)), ("apns-id", f"id-{len(self.requests)}")]
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

    def setUp(self):
        super().setUp()
        clear_token_cache()
        self.google.requests.clear()
        self.google.script.clear()
        self.google.objects.clear()
        self.google.token_count = 0

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


class CredentialError(ValueError):
    """A wallet credential does not parse or does not fit; ``code`` tells which check failed."""

    def __init__(self, code, detail=""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def load_certificate(pem, code="certificate"):
    if not pem:
        raise CredentialError(code, "missing")
    try:
        data = pem.encode() if isinstance(pem, str) else pem
        return x509.load_pem_x509_certificate(data.strip() + b"\n")
    except (ValueError, TypeError) as error:
        raise CredentialError(code, str(error)) from error


def load_private_key(pem, password=None):
    if not pem:
        raise CredentialError("key", "missing")
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data.strip() + b"\n", password=password.encode() if password else None)
    except TypeError as error:
        # encrypted key without password, or a password for a clear key
        raise CredentialError("key_password", str(error)) from error
    except ValueError as error:
        code = "key_password" if password or b"ENCRYPTED" in data else "key"
        raise CredentialError(code, str(error)) from error
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CredentialError("key", "only RSA and EC keys can sign passes")
    return key


def public_bytes(key_or_cert):
    public = key_or_cert.public_key()
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def certificate_pass_type_id(certificate):
    """The pass type identifier an Apple Pass Type ID certificate was issued for (its subject UID,
    else the common name ``Pass Type ID: pass.x.y``)."""
    subject = certificate.subject
    uid = subject.get_attributes_for_oid(NameOID.USER_ID)
    if uid:
        return uid[0].value
    common_names = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if common_names:
        name = common_names[0].value
        return name.split(":", 1)[1].strip() if ":" in name else name.strip()
    return ""


def certificate_team_id(certificate):
    """The Apple team an Apple certificate belongs to: its subject organizational unit."""
    units = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    return units[0].value.strip() if units else ""


def load_apple_credentials(certificate_pem, key_pem, password, wwdr_pem, pass_type_id=None, team_id=None):
    """Parse and cross-check the pass signing material; returns ``(certificate, key, wwdr)``."""
    certificate = load_certificate(certificate_pem, "certificate")
    key = load_private_key(key_pem, password)
    wwdr = load_certificate(wwdr_pem, "wwdr")
    if public_bytes(certificate) != public_bytes(key):
        raise CredentialError("key_mismatch")
    try:
        certificate.verify_directly_issued_by(wwdr)
    except (ValueError, TypeError, InvalidSignature) as error:
        raise CredentialError("wwdr_mismatch", certificate.issuer.rfc4514_string()) from error
    if pass_type_id and certificate_pass_type_id(certificate) != pass_type_id:
        raise CredentialError("pass_type_id", certificate_pass_type_id(certificate))
    # Wallet refuses a pass whose teamIdentifier is not the team of its signing certificate
    if team_id and certificate_team_id(certificate) != team_id:
        raise CredentialError("team_id", certificate_team_id(certificate))
    return certificate, key, wwdr

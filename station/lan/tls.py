"""The station's TLS certificate: made once on first start, then kept for good.

Entry PCs pin the certificate's SHA-256 fingerprint when they pair, so the pair
(key, certificate) must never change by itself: an existing valid pair is always
reused, even when the station's addresses have changed since (the names and
addresses in the certificate only matter to browsers, which cannot trust a
self-signed certificate anyway). The key is readable by the station's user only:
the folder is 0700 and the key file 0600 from the moment it is created.

The validity runs from 2000 to 2099 on purpose: a Raspberry Pi has no clock battery,
and a certificate "not yet valid" because of a wrong clock at first boot would lock
every entry PC out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from station.core.fsutil import publish_file, temp_path_for
from station.lan.errors import LanError

log = logging.getLogger(__name__)

CERT_NAME = "station.crt"
KEY_NAME = "station.key"
NOT_BEFORE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2099, 12, 31, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Certificate:
    """The files of the station's certificate and its pinned fingerprint."""

    cert_path: Path
    key_path: Path
    fingerprint: str  # lowercase hex SHA-256 of the DER certificate, no colons


def fingerprint_der(der: bytes) -> str:
    """The fingerprint collectors pin: lowercase hex SHA-256 of the DER certificate."""
    return hashlib.sha256(der).hexdigest()


def fingerprint_pem(pem: str) -> str:
    """The fingerprint of a PEM certificate (the first one in ``pem``)."""
    return fingerprint_der(ssl.PEM_cert_to_DER_cert(pem))


def grouped(fingerprint: str, size: int = 4) -> str:
    """``ab12cd34...`` as ``AB12 CD34 ...``, for reading aloud from a screen."""
    upper = fingerprint.upper()
    return " ".join(upper[i : i + size] for i in range(0, len(upper), size))


def read_certificate(folder: Path) -> Certificate | None:
    """The certificate in ``folder`` if both files are there and readable, else None."""
    cert_path, key_path = folder / CERT_NAME, folder / KEY_NAME
    try:
        pem = cert_path.read_text(encoding="ascii")
        fingerprint = fingerprint_pem(pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)  # also checks that they match
    except (OSError, ValueError, ssl.SSLError) as exc:
        if cert_path.exists() or key_path.exists():
            log.warning("TLS certificate in %s is unusable (%s); a new one is made", folder, exc)
        return None
    _tighten_key_mode(key_path)
    return Certificate(cert_path, key_path, fingerprint)


def ensure_certificate(
    folder: Path, station_id: str, hostnames: list[str], addresses: list[str]
) -> Certificate:
    """The station's certificate, made on first use (see the module docstring)."""
    _private_folder(folder)
    existing = read_certificate(folder)
    if existing is not None:
        return existing
    try:
        key_pem, cert_pem = _make_pair(station_id, hostnames, addresses)
        _write_private(folder / KEY_NAME, key_pem)
        _write_private(folder / CERT_NAME, cert_pem, mode=0o644)
    except (OSError, ValueError) as exc:
        raise LanError(500, "certificate", path=str(folder), detail=str(exc)) from exc
    made = read_certificate(folder)
    if made is None:
        raise LanError(500, "certificate", path=str(folder), detail="unreadable after writing")
    log.info("made the station's TLS certificate, fingerprint %s", made.fingerprint)
    return made


#: TLS 1.2 suites: forward secret (ECDHE) and authenticated encryption (AES-GCM,
#: ChaCha20-Poly1305) only; no CBC, no SHA-1 MACs. TLS 1.3's suites are all AEAD.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


def server_context(certificate: Certificate) -> ssl.SSLContext:
    """The listener's TLS settings: TLS 1.2 (ECDHE with AEAD) or 1.3, the station's
    certificate, no compression or renegotiation."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    context.options |= ssl.OP_NO_RENEGOTIATION
    context.load_cert_chain(certificate.cert_path, certificate.key_path)
    return context


def default_hostnames(station_host: str) -> list[str]:
    """Names for the certificate: this host, its mDNS names and the announced one."""
    host = socket.gethostname().split(".")[0] or "localhost"
    names = [host, f"{host}.local", f"{station_host}.local", "localhost"]
    return list(dict.fromkeys(names))


def _make_pair(station_id: str, hostnames: list[str], addresses: list[str]) -> tuple[bytes, bytes]:
    # Imported here: only the station makes certificates; collectors only hash them.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    # P-256: quick to make and to handshake on a Raspberry Pi, and every TLS stack
    # (Python's ssl on Windows and Linux included) speaks it.
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"ledger-station {station_id}"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ledger-station"),
        ]
    )
    ips = {ipaddress.ip_address("127.0.0.1")} | {ipaddress.ip_address(a) for a in addresses}
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in hostnames]
    alt_names += [x509.IPAddress(ip) for ip in sorted(ips, key=str)]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _private_folder(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)


def _tighten_key_mode(key_path: Path) -> None:
    try:
        if key_path.stat().st_mode & 0o077:
            key_path.chmod(0o600)
            log.warning("TLS key %s was readable by others; made it private (0600)", key_path)
    except OSError as exc:  # not the key's owner (a check run as another user)
        log.warning("TLS key %s is readable by others and stays so: %s", key_path, exc)


def _write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write atomically with ``mode`` from the start (never briefly world-readable)."""
    tmp = temp_path_for(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    publish_file(tmp, path)

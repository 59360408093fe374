"""The station's certificate: made once, private key private, reused, fingerprinted."""

from __future__ import annotations

import hashlib
import ipaddress
import ssl
import stat
from pathlib import Path

from cryptography import x509

from station.lan.tls import ensure_certificate, fingerprint_pem, grouped, read_certificate


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_made_once_with_private_key_and_names(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    made = ensure_certificate(folder, "st-1", ["ledger-st-1.local", "localhost"], ["192.0.2.5"])
    assert _mode(folder) == 0o700 and _mode(made.key_path) == 0o600
    pem = made.cert_path.read_text()
    der = ssl.PEM_cert_to_DER_cert(pem)
    assert made.fingerprint == hashlib.sha256(der).hexdigest() == fingerprint_pem(pem)
    cert = x509.load_pem_x509_certificate(pem.encode())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {"ledger-st-1.local", "localhost"}
    assert set(names.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("192.0.2.5"),
    }
    # Kept for good: a second start (other addresses) reuses the very same certificate.
    again = ensure_certificate(folder, "st-1", ["other.local"], ["198.51.100.9"])
    assert again.fingerprint == made.fingerprint


def test_a_loose_key_is_tightened_and_a_broken_pair_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    made = ensure_certificate(folder, "st-1", ["localhost"], [])
    made.key_path.chmod(0o644)
    assert read_certificate(folder) is not None
    assert _mode(made.key_path) == 0o600
    made.cert_path.write_text("not a certificate")
    replaced = ensure_certificate(folder, "st-1", ["localhost"], [])
    assert replaced.fingerprint != made.fingerprint


def test_grouped_for_reading_aloud() -> None:
    assert grouped("ab12cd34ef") == "AB12 CD34 EF"

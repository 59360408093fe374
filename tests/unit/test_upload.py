"""The upload page's rules that need no station: who counts as the station, shown names.

The page itself is tested in tests/integration/test_upload.py."""

from __future__ import annotations

import pytest

from station.ui.upload import display_name, is_loopback


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("192.168.1.20", False),
        ("::ffff:192.168.1.20", False),
        ("fe80::1%eth0", False),
        ("", False),
        (None, False),
        ("localhost", False),  # never a name: the server gives the peer's address
    ],
)
def test_only_loopback_peers_count_as_the_station(address: str | None, loopback: bool) -> None:
    assert is_loopback(address) is loopback


def test_client_file_names_are_shown_never_used_as_paths() -> None:
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("C:\\Users\\an\\IMG_1.jpg") == "IMG_1.jpg"
    assert display_name("") == "?"
    assert len(display_name("x" * 500 + ".jpg")) == 80

"""The client's address: X-Forwarded-For only from trusted proxies, read from the right."""

from __future__ import annotations

import pytest

from api.http.client_address import forwarded_client, parse_networks

PROXIES = parse_networks("10.0.0.0/24, 192.0.2.1")


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),  # not a proxy: its header is ignored
        ("127.0.0.1", "198.51.100.1", "127.0.0.1"),  # loopback is no proxy unless configured
        ("10.0.0.3", None, "10.0.0.3"),  # a proxy's own request
        ("10.0.0.3", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.3", "198.51.100.1, 192.0.2.1", "198.51.100.1"),  # through two of our proxies
        ("10.0.0.3", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client's own claim: left
        ("10.0.0.3", "198.51.100.1, garbage", "10.0.0.3"),  # a hop that is no address
        ("10.0.0.3", "10.0.0.9, 10.0.0.8", "10.0.0.9"),  # proxies all the way: the first
        ("testclient", "198.51.100.1", "testclient"),  # a peer that is no address
    ],
)
def test_forwarded_client(peer: str, header: str | None, client: str) -> None:
    assert forwarded_client(peer, header, PROXIES) == client


def test_no_proxies_is_the_default_and_a_bad_network_is_refused() -> None:
    assert parse_networks("") == ()
    assert forwarded_client("127.0.0.1", "198.51.100.1", ()) == "127.0.0.1"
    with pytest.raises(ValueError, match="does not appear to be"):
        parse_networks("10.0.0.0/8, not-a-network")

"""The SSRF policy: which addresses the URL checker may reach, however they are spelled."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.skills.check import netguard
from worker.skills.check.netguard import (
    LookupTimedOut,
    RefusedAddress,
    UnresolvableHost,
    parse_ip_literal,
    refusal,
    resolve,
)

# address, refused when allow_private=False, refused when allow_private=True
POLICY = [
    ("169.254.169.254", True, True),
    ("169.254.170.2", True, True),
    ("169.254.1.1", True, True),
    ("fe80::1", True, True),
    ("fd00:ec2::254", True, True),
    ("::ffff:169.254.169.254", True, True),
    ("::ffff:a9fe:a9fe", True, True),
    ("::a9fe:a9fe", True, True),  # IPv4-compatible
    ("64:ff9b::a9fe:a9fe", True, True),  # NAT64
    ("2002:a9fe:a9fe::1", True, True),  # 6to4
    ("0.0.0.0", True, True),
    ("0.1.2.3", True, True),
    ("::", True, True),
    ("224.0.0.1", True, True),
    ("ff02::1", True, True),
    ("255.255.255.255", True, True),
    ("240.0.0.1", True, True),
    ("127.0.0.1", True, False),
    ("127.255.0.9", True, False),
    ("::1", True, False),
    ("::ffff:127.0.0.1", True, False),
    ("10.0.0.1", True, False),
    ("172.16.5.4", True, False),
    ("192.168.1.1", True, False),
    ("fc00::1", True, False),
    ("fd12:3456::1", True, False),
    ("100.64.0.1", True, False),
    ("198.18.0.1", True, False),  # benchmarking
    ("192.0.2.1", True, False),  # documentation
    ("2001:db8::1", True, False),  # documentation
    ("8.8.8.8", False, False),
    ("1.1.1.1", False, False),
    ("2606:4700:4700::1111", False, False),
    ("::ffff:8.8.8.8", False, False),
    ("2002:808:808::1", False, False),  # 6to4 of 8.8.8.8
    ("172.32.0.1", False, False),  # just outside 172.16/12
]


@pytest.mark.parametrize(("address", "refused", "refused_when_private_allowed"), POLICY)
def test_refusal_policy(address: str, refused: bool, refused_when_private_allowed: bool) -> None:
    ip = ipaddress.ip_address(address)
    assert (refusal(ip, allow_private=False) is not None) is refused
    assert (refusal(ip, allow_private=True) is not None) is refused_when_private_allowed


def test_reasons_are_human() -> None:
    metadata = refusal(ipaddress.ip_address("169.254.169.254"), allow_private=True)
    assert metadata == "169.254.169.254 is link-local (cloud metadata); never checked"
    private = refusal(ipaddress.ip_address("10.0.0.1"), allow_private=False)
    assert private == "10.0.0.1 is a private address (set CHECK_ALLOW_PRIVATE_NETWORKS=true to allow)"
    loopback = refusal(ipaddress.ip_address("127.0.0.1"), allow_private=False)
    assert loopback is not None and "loopback" in loopback
    mapped = refusal(ipaddress.ip_address("::ffff:a9fe:a9fe"), allow_private=True)
    assert mapped is not None and "169.254.169.254" in mapped and "::ffff:a9fe:a9fe" in mapped
    assert "ECS" in (refusal(ipaddress.ip_address("169.254.170.2"), allow_private=True) or "")


@pytest.fixture
def no_dns() -> Iterator[mock.MagicMock]:
    """Fail the test if anything reaches getaddrinfo."""
    with mock.patch.object(socket, "getaddrinfo", side_effect=AssertionError("DNS was queried")) as gai:
        yield gai


# host as written, the address it spells, refused when allow_private=True
LITERALS = [
    ("169.254.169.254", "169.254.169.254", True),
    ("[fe80::1]", "fe80::1", True),
    ("[fe80::1%25eth0]", None, True),
    ("fe80::1%eth0", None, True),
    ("fd00:ec2::254", "fd00:ec2::254", True),
    ("[::ffff:169.254.169.254]", "::ffff:169.254.169.254", True),
    ("::ffff:a9fe:a9fe", "::ffff:169.254.169.254", True),
    ("2130706433", "127.0.0.1", False),
    ("0177.0.0.1", "127.0.0.1", False),
    ("0x7f.0.0.1", "127.0.0.1", False),
    ("0x7f.1", "127.0.0.1", False),
    ("127.1", "127.0.0.1", False),
    ("0xa9fea9fe", "169.254.169.254", True),
    ("0251.0376.0251.0376", "169.254.169.254", True),
    ("2852039166", "169.254.169.254", True),
    ("169.254.43518", "169.254.169.254", True),
    ("0xA9.0xFE.0xA9.0xFE", "169.254.169.254", True),
    ("169.254.169.254.", "169.254.169.254", True),
    ("10.0.0.1", "10.0.0.1", False),
    ("192.168.1.1", "192.168.1.1", False),
    ("100.64.0.1", "100.64.0.1", False),
    ("0", "0.0.0.0", True),
]


@pytest.mark.parametrize(("host", "spells", "always_refused"), LITERALS)
def test_literals_are_refused_without_dns(
    host: str, spells: str | None, always_refused: bool, no_dns: mock.MagicMock
) -> None:
    if spells is not None:
        assert parse_ip_literal(host) == ipaddress.ip_address(spells)
    with pytest.raises(RefusedAddress):
        resolve(host, 80, allow_private=False)
    if always_refused:
        with pytest.raises(RefusedAddress):
            resolve(host, 80, allow_private=True)
    assert no_dns.call_count == 0


@pytest.mark.parametrize("host", ["2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.1", "[::1]"])
def test_loopback_spellings_resolve_to_loopback_when_allowed(host: str) -> None:
    endpoints = resolve(host, 8080, allow_private=True)
    assert [e.ip for e in endpoints] == [parse_ip_literal(host)]
    assert all(e.ip.is_loopback and e.sockaddr[1] == 8080 for e in endpoints)


def test_global_literal_is_allowed() -> None:
    (endpoint,) = resolve("8.8.8.8", 443, allow_private=False)
    assert endpoint.family == socket.AF_INET
    assert endpoint.sockaddr == ("8.8.8.8", 443)


@pytest.mark.parametrize(
    "host",
    [
        "metadata.google.internal",
        "METADATA.google.internal.",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
    ],
)
def test_metadata_names_are_refused_without_dns(host: str, no_dns: mock.MagicMock) -> None:
    with pytest.raises(RefusedAddress, match="metadata"):
        resolve(host, 80, allow_private=True)
    assert no_dns.call_count == 0


def _fake_getaddrinfo(answers: dict[str, list[str]]) -> Any:
    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple[Any, ...]]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out: list[tuple[Any, ...]] = []
        for addr in answers[host]:
            if ":" in addr:
                out.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (addr, port, 0, 0)))
            else:
                out.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (addr, port)))
        return out

    return getaddrinfo


def test_a_name_is_refused_if_any_address_is_refused() -> None:
    fake = _fake_getaddrinfo({"mixed.example": ["93.184.216.34", "169.254.169.254"]})
    with mock.patch.object(socket, "getaddrinfo", side_effect=fake), pytest.raises(RefusedAddress) as info:
        resolve("mixed.example", 80, allow_private=True)
    assert info.value.reason.startswith("mixed.example: 169.254.169.254 is link-local")


def test_a_name_resolving_to_a_mapped_metadata_address_is_refused() -> None:
    fake = _fake_getaddrinfo({"sneaky.example": ["::ffff:169.254.169.254"]})
    with mock.patch.object(socket, "getaddrinfo", side_effect=fake), pytest.raises(RefusedAddress):
        resolve("sneaky.example", 80, allow_private=True)


def test_a_name_resolving_to_public_addresses_gives_every_address_once() -> None:
    fake = _fake_getaddrinfo({"public.example": ["93.184.216.34", "2606:2800::1", "93.184.216.34"]})
    with mock.patch.object(socket, "getaddrinfo", side_effect=fake):
        endpoints = resolve("public.example", 443, allow_private=False)
    assert [(e.family, e.sockaddr) for e in endpoints] == [
        (socket.AF_INET, ("93.184.216.34", 443)),
        (socket.AF_INET6, ("2606:2800::1", 443, 0, 0)),
    ]


def test_private_name_is_refused_unless_allowed() -> None:
    fake = _fake_getaddrinfo({"intranet.example": ["10.1.2.3"]})
    with mock.patch.object(socket, "getaddrinfo", side_effect=fake):
        with pytest.raises(RefusedAddress, match="CHECK_ALLOW_PRIVATE_NETWORKS"):
            resolve("intranet.example", 80, allow_private=False)
        assert [e.ip for e in resolve("intranet.example", 80, allow_private=True)] == [
            ipaddress.ip_address("10.1.2.3")
        ]


def test_unresolvable_host() -> None:
    fake = _fake_getaddrinfo({})
    with mock.patch.object(socket, "getaddrinfo", side_effect=fake), pytest.raises(UnresolvableHost):
        resolve("nosuch.example", 80, allow_private=True)
    with pytest.raises(UnresolvableHost):
        resolve("", 80, allow_private=True)


def test_localhost_is_loopback() -> None:
    with pytest.raises(RefusedAddress, match="loopback"):
        resolve("localhost", 80, allow_private=False)


def test_refused_address_carries_its_reason() -> None:
    with pytest.raises(RefusedAddress) as info:
        resolve("0xa9fea9fe", 80, allow_private=True)
    assert info.value.reason == str(info.value)
    assert isinstance(info.value, netguard.NetGuardError)


# --- property: every spelling of every link-local IPv4 address is refused, private networks or not ---


def _part(value: int, base: str) -> str:
    if base == "hex":
        return hex(value)
    if base == "oct":
        return "0" + format(value, "o")
    return str(value)


@st.composite
def link_local_spellings(draw: st.DrawFn) -> tuple[int, str]:
    """(the address as an int, one way inet_aton would read it): 1 to 4 parts, each in any base."""
    value = 0xA9FE0000 | draw(st.integers(0, 0xFFFF))
    octets = value.to_bytes(4, "big")
    nparts = draw(st.integers(1, 4))
    if nparts == 1:
        parts = [value]
    elif nparts == 2:
        parts = [octets[0], value & 0xFFFFFF]
    elif nparts == 3:
        parts = [octets[0], octets[1], value & 0xFFFF]
    else:
        parts = list(octets)
    bases = draw(st.lists(st.sampled_from(["dec", "hex", "oct"]), min_size=nparts, max_size=nparts))
    return value, ".".join(_part(p, b) for p, b in zip(parts, bases, strict=True))


@given(link_local_spellings())
def test_any_spelling_of_a_link_local_address_is_refused(case: tuple[int, str]) -> None:
    value, spelling = case
    # The spelling really is that address to the C library: the test would be vacuous otherwise.
    assert socket.inet_aton(spelling) == value.to_bytes(4, "big")
    assert parse_ip_literal(spelling) == ipaddress.IPv4Address(value)
    no_dns = mock.patch.object(socket, "getaddrinfo", side_effect=AssertionError("DNS was queried"))
    with no_dns, pytest.raises(RefusedAddress, match="link-local"):
        resolve(spelling, 80, allow_private=True)


@given(st.integers(0, 0xFFFF))
def test_any_link_local_address_embedded_in_ipv6_is_refused(low: int) -> None:
    v4 = ipaddress.IPv4Address(0xA9FE0000 | low)
    for v6 in (
        f"::ffff:{v4}",
        f"::{v4}",
        f"64:ff9b::{v4}",
        f"2002:{int(v4) >> 16:x}:{int(v4) & 0xFFFF:x}::1",
    ):
        assert refusal(ipaddress.ip_address(v6), allow_private=True) is not None, v6


# --- a resolver that hangs: every lookup is bounded by the caller's deadline ------------------------


class _HangingResolver:
    """Hangs like getaddrinfo with a broken resolver, until released; counts calls and completions."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls: list[str] = []
        self.finished = threading.Semaphore(0)

    def __call__(self, host: str, port: int, *args: object) -> list[tuple[Any, ...]]:
        self.calls.append(host)
        try:
            self.release.wait(timeout=30)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]
        finally:
            self.finished.release()

    def settle(self) -> None:
        """Let every stuck lookup finish, and wait until their threads have given their slots back."""
        self.release.set()
        for thread in threading.enumerate():
            if thread.name.startswith("dns-"):
                thread.join(timeout=5)


@pytest.fixture
def hanging() -> Iterator[_HangingResolver]:
    resolver = _HangingResolver()
    try:
        yield resolver
    finally:
        resolver.settle()


def test_a_hanging_lookup_stops_at_the_deadline(hanging: _HangingResolver) -> None:
    started = time.monotonic()
    with pytest.raises(LookupTimedOut, match=r"DNS lookup of slow\.example timed out"):
        resolve("slow.example", 443, allow_private=False, deadline=started + 0.3, resolver=hanging)
    assert 0.25 < time.monotonic() - started < 0.8
    assert hanging.calls == ["slow.example"]
    assert isinstance(LookupTimedOut("x"), netguard.NetGuardError)


def test_the_abandoned_lookup_finishes_on_its_own_and_is_dropped(hanging: _HangingResolver) -> None:
    with pytest.raises(LookupTimedOut):
        resolve("slow.example", 443, allow_private=False, deadline=time.monotonic() + 0.05, resolver=hanging)
    hanging.release.set()
    assert hanging.finished.acquire(timeout=5)  # the thread ended once the resolver answered


def test_a_lookup_that_answers_in_time_is_vetted_as_before() -> None:
    fake = _fake_getaddrinfo({"intranet.example": ["10.1.2.3"], "public.example": ["93.184.216.34"]})
    deadline = time.monotonic() + 5
    with pytest.raises(RefusedAddress, match="private"):
        resolve("intranet.example", 80, allow_private=False, deadline=deadline, resolver=fake)
    with pytest.raises(UnresolvableHost):
        resolve("nosuch.example", 80, allow_private=False, deadline=deadline, resolver=fake)
    (endpoint,) = resolve("public.example", 80, allow_private=False, deadline=deadline, resolver=fake)
    assert endpoint.sockaddr == ("93.184.216.34", 80)


def test_ip_literals_never_wait_on_the_resolver_thread() -> None:
    started = time.monotonic()
    (endpoint,) = resolve(
        "127.0.0.1", 80, allow_private=True, deadline=started + 0.3, resolver=socket.getaddrinfo
    )
    assert endpoint.sockaddr == ("127.0.0.1", 80)
    assert not [t for t in threading.enumerate() if t.name.startswith("dns-")]


def test_stuck_lookups_are_bounded_and_later_ones_fail_at_their_deadline(hanging: _HangingResolver) -> None:
    """A resolver that never answers cannot make the worker start threads without end."""
    for n in range(netguard.MAX_PENDING_LOOKUPS):
        with pytest.raises(LookupTimedOut):
            resolve(f"h{n}.example", 80, allow_private=False, deadline=time.monotonic(), resolver=hanging)
    started = time.monotonic()
    with pytest.raises(LookupTimedOut, match="resolver busy"):
        resolve("one-more.example", 80, allow_private=False, deadline=started + 0.2, resolver=hanging)
    assert time.monotonic() - started < 0.7
    assert len(hanging.calls) == netguard.MAX_PENDING_LOOKUPS  # the last one never started a lookup
    hanging.settle()
    (endpoint,) = resolve(
        "after.example", 80, allow_private=False, deadline=time.monotonic() + 5, resolver=hanging
    )
    assert endpoint.sockaddr == ("93.184.216.34", 80)

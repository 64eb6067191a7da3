"""Which network addresses the URL checker may reach (the SSRF guard behind the `check` skill).

Two layers:

* `refusal(ip, allow_private=...)` is the policy for one address. Link-local (cloud metadata), unspecified,
  multicast, broadcast and reserved addresses are refused always; loopback, private, shared (CGNAT),
  documentation and every other non-global address are refused unless private networks are allowed
  (`CHECK_ALLOW_PRIVATE_NETWORKS=true`, for tests and the sandbox). IPv6 addresses that carry an IPv4
  address (IPv4-mapped, IPv4-compatible, IPv4-translated, 6to4, NAT64) are judged by that IPv4 address.
* `resolve(host, port, allow_private=...)` resolves a host with `socket.getaddrinfo` (which reads alternate
  IPv4 spellings such as `2130706433`, `0177.0.0.1`, `0x7f.1` or `127.1` exactly as a connect would) and
  refuses the host if *any* of its addresses is refused. IP literals are judged before any DNS query.
  The caller must connect to the returned addresses themselves (pinning), never resolve the name again.

`getaddrinfo` has no timeout of its own: a broken resolver can hold it for as long as the system's
resolver configuration allows (tens of seconds). So a name lookup runs on a daemon thread and `resolve`
stops waiting at the caller's `deadline`, raising `LookupTimedOut`. The abandoned thread finishes on its
own when the system resolver gives up; it holds nothing the bot needs (no socket of ours, no claim, no
lock but its slot below), and its answer is dropped. On Lambda it is frozen with the container when the
handler returns and finishes after a later thaw, which is harmless for the same reason. At most
`MAX_PENDING_LOOKUPS` lookups run at once in a process: when that many are stuck, further lookups wait
for a slot until their own deadline, so a hanging resolver cannot make the worker start threads without
end. IP literals never reach DNS and are resolved inline.

Stdlib only.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ALLOW_PRIVATE_ENV",
    "MAX_PENDING_LOOKUPS",
    "Endpoint",
    "IPAddress",
    "LookupTimedOut",
    "NetGuardError",
    "RefusedAddress",
    "Resolver",
    "UnresolvableHost",
    "parse_ip_literal",
    "refusal",
    "resolve",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: What `resolve` calls to look a name up: `socket.getaddrinfo`'s signature (host, port, family, type,
#: proto, flags). A seam for tests, which pass one that hangs.
Resolver = Callable[[str, int, int, int, int, int], Sequence[tuple[Any, ...]]]

#: Name lookups running at once in this process, stuck ones included (see the module's docstring).
MAX_PENDING_LOOKUPS = 32
_lookup_slots = threading.BoundedSemaphore(MAX_PENDING_LOOKUPS)

#: The environment variable (read by the skill, not here) that sets `allow_private`.
ALLOW_PRIVATE_ENV = "CHECK_ALLOW_PRIVATE_NETWORKS"

_ALLOW_HINT = f"set {ALLOW_PRIVATE_ENV}=true to allow"

# Cloud metadata / credential endpoints: named in reasons, refused whatever allow_private says.
_METADATA_ADDRESSES: dict[IPAddress, str] = {
    ipaddress.IPv4Address("169.254.169.254"): "cloud metadata",
    ipaddress.IPv4Address("169.254.170.2"): "ECS task metadata",
    ipaddress.IPv4Address("169.254.170.23"): "EKS pod identity",
    ipaddress.IPv4Address("100.100.100.200"): "Alibaba Cloud metadata",
    ipaddress.IPv6Address("fd00:ec2::254"): "AWS instance metadata over IPv6",
    ipaddress.IPv6Address("fd00:ec2::23"): "EKS pod identity over IPv6",
}

# Host names of metadata services, refused before any DNS query.
_METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)

_V4_ZERO_NET = ipaddress.IPv4Network("0.0.0.0/8")
_V4_SHARED_NET = ipaddress.IPv4Network("100.64.0.0/10")
_V4_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
_V4_PRIVATE_NETS = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_V6_PRIVATE_NETS = (ipaddress.IPv6Network("fc00::/7"), ipaddress.IPv6Network("fec0::/10"))
_V6_COMPAT_NET = ipaddress.IPv6Network("::/96")
_V6_TRANSLATED_NET = ipaddress.IPv6Network("::ffff:0:0:0/96")
_V6_NAT64_NET = ipaddress.IPv6Network("64:ff9b::/96")

# What `socket.inet_aton` may read as an IPv4 address: 1 to 4 parts, each decimal, octal or hex.
_V4_LITERAL = re.compile(r"(?:0[xX][0-9a-fA-F]*|[0-9]+)(?:\.(?:0[xX][0-9a-fA-F]*|[0-9]+)){0,3}")


class NetGuardError(Exception):
    """Base class: the host cannot be checked."""


class RefusedAddress(NetGuardError):
    """The host is, or resolves to, an address the checker must not reach."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnresolvableHost(NetGuardError):
    """The host name does not resolve to any usable address (or is not a valid host name)."""


class LookupTimedOut(NetGuardError):
    """The name lookup did not answer before the caller's deadline."""


@dataclass(frozen=True)
class Endpoint:
    """One vetted address to connect to: pass `family` to `socket.socket` and `sockaddr` to `connect`."""

    family: socket.AddressFamily
    sockaddr: tuple[str, int] | tuple[str, int, int, int]
    ip: IPAddress


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, translated, 6to4, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    plain = ipaddress.IPv6Address(int(ip))  # without any %zone, for network membership
    if plain in _V6_NAT64_NET or plain in _V6_TRANSLATED_NET:
        return low32
    if plain in _V6_COMPAT_NET and int(ip) > 1:  # `::` and `::1` are themselves, not IPv4-compatible
        return low32
    return None


def _refusal_v4(ip: ipaddress.IPv4Address, allow_private: bool) -> str | None:
    if ip in _METADATA_ADDRESSES:
        return f"{ip} is link-local ({_METADATA_ADDRESSES[ip]}); never checked"
    if ip.is_link_local:
        return f"{ip} is link-local (where cloud metadata lives); never checked"
    if ip in _V4_ZERO_NET:
        return f"{ip} is unspecified ('this network'); never checked"
    if ip.is_multicast:
        return f"{ip} is a multicast address; never checked"
    if ip == _V4_BROADCAST:
        return f"{ip} is the broadcast address; never checked"
    if ip.is_reserved:
        return f"{ip} is a reserved address; never checked"
    if allow_private or ip.is_global:
        return None
    if ip.is_loopback:
        return f"{ip} is a loopback address ({_ALLOW_HINT})"
    if any(ip in net for net in _V4_PRIVATE_NETS):
        return f"{ip} is a private address ({_ALLOW_HINT})"
    if ip in _V4_SHARED_NET:
        return f"{ip} is in the shared address space 100.64.0.0/10 ({_ALLOW_HINT})"
    return f"{ip} is not a public address ({_ALLOW_HINT})"


def _refusal_v6(ip: ipaddress.IPv6Address, allow_private: bool) -> str | None:
    plain = ipaddress.IPv6Address(int(ip))  # the address without its %zone
    if plain in _METADATA_ADDRESSES:
        return f"{ip} is {_METADATA_ADDRESSES[plain]}; never checked"
    if ip.is_link_local:
        return f"{ip} is link-local; never checked"
    if ip.is_unspecified:
        return f"{ip} is unspecified; never checked"
    if ip.is_loopback:
        return None if allow_private else f"{ip} is a loopback address ({_ALLOW_HINT})"
    carried = _embedded_ipv4(ip)
    if carried is not None:
        reason = _refusal_v4(carried, allow_private)
        return None if reason is None else f"{reason} [carried in IPv6 {ip}]"
    if ip.is_multicast:
        return f"{ip} is a multicast address; never checked"
    if ip.is_reserved:
        return f"{ip} is a reserved address; never checked"
    if allow_private:
        return None
    if any(plain in net for net in _V6_PRIVATE_NETS):
        return f"{ip} is a private address ({_ALLOW_HINT})"
    if not ip.is_global:
        return f"{ip} is not a public address ({_ALLOW_HINT})"
    return None


def refusal(ip: IPAddress, *, allow_private: bool) -> str | None:
    """A human reason why the checker must not connect to `ip`, or None if it may."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _refusal_v4(ip, allow_private)
    return _refusal_v6(ip, allow_private)


def _normalise_host(host: str) -> str:
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.rstrip(".").lower()


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address `host` spells, if it is an IP literal in any spelling a connect would accept.

    Accepts dotted quads, bracketed or bare IPv6 (with a `%zone`), and the alternate IPv4 spellings
    `socket.inet_aton` reads: one to four parts, each decimal, octal (leading 0) or hex (0x).
    """
    host = _normalise_host(host)
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _V4_LITERAL.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _refuse_name(name: str) -> None:
    if name in _METADATA_NAMES or (name.startswith("instance-data.") and name.endswith(".internal")):
        raise RefusedAddress(f"{name} is a cloud metadata host name; never checked")


def resolve(
    host: str,
    port: int,
    *,
    allow_private: bool,
    deadline: float | None = None,
    resolver: Resolver | None = None,
) -> list[Endpoint]:
    """Resolve `host` for a TCP connection to `port` and vet every address.

    Raises `RefusedAddress` if the host names a metadata service or if *any* address it resolves to is
    refused, `UnresolvableHost` if it resolves to nothing, and `LookupTimedOut` if the lookup has not
    answered by `deadline` (a `time.monotonic()` value; None waits as long as the resolver takes).
    IP literals never reach DNS. `resolver` defaults to `socket.getaddrinfo`.
    """
    name = _normalise_host(host)
    if not name:
        raise UnresolvableHost("empty host name")
    lookup = resolver if resolver is not None else _system_resolver
    literal = parse_ip_literal(name)
    args: tuple[str, int, int, int, int, int]
    if literal is not None:
        reason = refusal(literal, allow_private=allow_private)
        if reason is not None:
            raise RefusedAddress(reason)
        # The canonical spelling, numeric only: no DNS, so no need to bound it.
        args = (
            str(literal),
            port,
            socket.AF_UNSPEC,
            socket.SOCK_STREAM,
            socket.IPPROTO_TCP,
            socket.AI_NUMERICHOST,
        )
        infos = _lookup_inline(lookup, args, name)
    else:
        _refuse_name(name)
        query = host.strip().removeprefix("[").removesuffix("]").lower()
        args = (query, port, socket.AF_UNSPEC, socket.SOCK_STREAM, socket.IPPROTO_TCP, 0)
        infos = _lookup_by(lookup, args, name, deadline)
    return _vet(infos, name, literal is not None, allow_private)


def _system_resolver(
    host: str, port: int, family: int, type_: int, proto: int, flags: int
) -> Sequence[tuple[Any, ...]]:
    # Looked up at call time, so that a test patching socket.getaddrinfo is honoured.
    return socket.getaddrinfo(host, port, family, type_, proto, flags)


def _lookup_inline(
    lookup: Resolver, args: tuple[str, int, int, int, int, int], name: str
) -> Sequence[tuple[Any, ...]]:
    try:
        return lookup(*args)
    except (OSError, UnicodeError, ValueError) as exc:
        raise UnresolvableHost(f"no such host {name}") from exc


def _lookup_by(
    lookup: Resolver, args: tuple[str, int, int, int, int, int], name: str, deadline: float | None
) -> Sequence[tuple[Any, ...]]:
    """`lookup(*args)` on a daemon thread, waited for until `deadline` at most."""
    if not _lookup_slots.acquire(timeout=_wait_for(deadline)):
        raise LookupTimedOut(f"DNS lookup of {name} timed out (resolver busy)")
    outcome: list[Sequence[tuple[Any, ...]] | BaseException] = []
    answered = threading.Event()

    def run() -> None:
        try:
            outcome.append(_lookup_inline(lookup, args, name))
        except BaseException as exc:  # handed to the waiting caller, if it still waits
            outcome.append(exc)
        finally:
            _lookup_slots.release()
            answered.set()

    threading.Thread(target=run, name=f"dns-{name[:40]}", daemon=True).start()
    if not answered.wait(timeout=_wait_for(deadline)):
        raise LookupTimedOut(f"DNS lookup of {name} timed out")
    (result,) = outcome
    if isinstance(result, BaseException):
        raise result
    return result


def _wait_for(deadline: float | None) -> float | None:
    """Seconds to wait for something that must be over by `deadline` (None: no limit)."""
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


def _vet(infos: Sequence[tuple[Any, ...]], name: str, literal: bool, allow_private: bool) -> list[Endpoint]:
    endpoints: list[Endpoint] = []
    seen: set[tuple[int, tuple[str, int] | tuple[str, int, int, int]]] = set()
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        addr = str(sockaddr[0])
        port_ = int(sockaddr[1])
        vetted: tuple[str, int] | tuple[str, int, int, int] = (addr, port_)
        scope = 0
        if len(sockaddr) == 4:
            scope = int(sockaddr[3])
            vetted = (addr, port_, int(sockaddr[2]), scope)
        try:
            ip: IPAddress = ipaddress.ip_address(f"{addr}%{scope}" if scope and "%" not in addr else addr)
        except ValueError as exc:
            raise UnresolvableHost(f"{name} resolved to an unreadable address {addr!r}") from exc
        reason = refusal(ip, allow_private=allow_private)
        if reason is not None:
            raise RefusedAddress(reason if literal else f"{name}: {reason}")
        if (family, vetted) in seen:
            continue
        seen.add((family, vetted))
        endpoints.append(Endpoint(socket.AddressFamily(family), vetted, ip))
    if not endpoints:
        raise UnresolvableHost(f"no such host {name}")
    return endpoints

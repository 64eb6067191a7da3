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

Stdlib only.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass

__all__ = [
    "ALLOW_PRIVATE_ENV",
    "Endpoint",
    "IPAddress",
    "NetGuardError",
    "RefusedAddress",
    "UnresolvableHost",
    "parse_ip_literal",
    "refusal",
    "resolve",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

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


def resolve(host: str, port: int, *, allow_private: bool) -> list[Endpoint]:
    """Resolve `host` for a TCP connection to `port` and vet every address.

    Raises `RefusedAddress` if the host names a metadata service or if *any* address it resolves to is
    refused, and `UnresolvableHost` if it resolves to nothing. IP literals never reach DNS.
    """
    name = _normalise_host(host)
    if not name:
        raise UnresolvableHost("empty host name")
    literal = parse_ip_literal(name)
    flags = 0
    if literal is not None:
        reason = refusal(literal, allow_private=allow_private)
        if reason is not None:
            raise RefusedAddress(reason)
        flags = socket.AI_NUMERICHOST
        # Resolve the canonical spelling (getaddrinfo would read the alternate one the same way).
        query = str(literal)
    else:
        _refuse_name(name)
        query = host.strip().removeprefix("[").removesuffix("]").lower()
    try:
        infos = socket.getaddrinfo(
            query, port, socket.AF_UNSPEC, socket.SOCK_STREAM, socket.IPPROTO_TCP, flags
        )
    except (OSError, UnicodeError, ValueError) as exc:
        raise UnresolvableHost(f"no such host {name}") from exc

    endpoints: list[Endpoint] = []
    seen: set[tuple[socket.AddressFamily, tuple[str, int] | tuple[str, int, int, int]]] = set()
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
            raise RefusedAddress(reason if literal is not None else f"{name}: {reason}")
        if (family, vetted) in seen:
            continue
        seen.add((family, vetted))
        endpoints.append(Endpoint(family, vetted, ip))
    if not endpoints:
        raise UnresolvableHost(f"no such host {name}")
    return endpoints

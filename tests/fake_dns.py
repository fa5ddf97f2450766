"""A resolver for tests: chosen host names answer chosen addresses, every other name goes to
the real resolver; each lookup of a chosen name is counted."""

from __future__ import annotations

import socket
from typing import Any

import pytest

# Any globally reachable address: nothing connects to it.
PUBLIC_ADDRESS = "93.184.215.14"


class FakeDNS:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: dict[str, list[str]] = {}
        self.lookups: list[str] = []
        real = socket.getaddrinfo

        def getaddrinfo(
            host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
        ) -> list[Any]:
            name = host.decode() if isinstance(host, bytes) else host
            if name not in self.answers:
                return real(host, port, family, type, proto, flags)
            self.lookups.append(name)
            port_number = int(port or 0)
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    socket.IPPROTO_TCP,
                    "",
                    (address, port_number, 0, 0) if ":" in address else (address, port_number),
                )
                for address in self.answers[name]
            ]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

"""Posting to a checked destination over a connection pinned to its checked address.

:func:`post` connects to the address :func:`gateway.services.destinations.checked`
resolved, never looking the name up again, while the request still speaks to the name:
the Host header, TLS SNI and the certificate check all use the URL's host. Proxies from
the environment are ignored (a proxy would resolve the name itself) and redirects are
not followed (a redirect could point anywhere).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from gateway.services.destinations import Destination


class PinnedAdapter(HTTPAdapter):
    """An adapter whose connection pools open sockets to one address, whatever the URL's
    host; certificates are still checked against that host."""

    def __init__(self, destination: Destination) -> None:
        self.destination = destination
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        if self.destination.address is not None:
            host_params["host"] = self.destination.address
            if host_params["scheme"] == "https":
                pool_kwargs["server_hostname"] = self.destination.host
                pool_kwargs["assert_hostname"] = self.destination.host
        return host_params, pool_kwargs


def _host_header(destination: Destination) -> str:
    host = f"[{destination.host}]" if ":" in destination.host else destination.host
    default = 443 if destination.scheme == "https" else 80
    return host if destination.port == default else f"{host}:{destination.port}"


def post(
    destination: Destination, data: bytes, headers: Mapping[str, str], timeout: float
) -> requests.Response:
    """POST ``data`` to ``destination`` (pinned to its address); raises what requests
    raises on a failed connection."""
    with requests.Session() as session:
        session.trust_env = False
        adapter = PinnedAdapter(destination)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session.post(
            destination.url,
            data=data,
            headers={**headers, "Host": _host_header(destination)},
            timeout=timeout,
            allow_redirects=False,
        )

"""The WSGI vocabulary of the endpoint's own routes: werkzeug's Request and a JSON Response.

Our routes (``front``, ``sources.function_urls``) read requests through werkzeug's
``Request`` and answer with ``JsonResponse``; werkzeug sets ``Content-Length``
(so its server never needs chunking) and the status line.

WSGI has one slot per header name: werkzeug's server joins a repeated header with commas
(``X-M: 1`` + ``X-M: 2`` -> ``HTTP_X_M="1,2"``). API Gateway's v1 events keep every value
(``multiValueHeaders``) and its 2.0 events keep each ``Cookie`` header apart, so the
endpoint's request handler also puts the headers as received under ``RAW_HEADERS``;
``header_pairs`` reads them back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

__all__ = ["RAW_HEADERS", "JsonResponse", "Request", "StartResponse", "WSGIApp", "header_pairs"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

#: The environ key holding the request's headers as received: ``[(name, value), ...]``, repeats kept.
RAW_HEADERS = "lambda_harness.raw_headers"


def raw_header_list(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers as received, named as werkzeug names them (``x-m`` -> ``X-M``), values unfolded.

    Like werkzeug's server, names with an underscore are left out (they would alias a
    dash in WSGI's ``HTTP_*`` keys).
    """
    out = []
    for name, value in items:
        if "_" in name:
            continue
        out.append((name.lower().title(), value.replace("\r\n", "").strip()))
    return out


def header_pairs(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A request's headers in order with repeats kept (``RAW_HEADERS`` when the endpoint's
    handler set it, else werkzeug's view, where repeats arrive joined with commas)."""
    raw = environ.get(RAW_HEADERS)
    if raw is not None:
        return list(raw)
    return list(Request(dict(environ)).headers.items())


class JsonResponse(Response):
    """A response whose Content-Type is ``application/json`` unless its headers name one.

    AWS's Lambda API and function URLs default to JSON; werkzeug's default is text/plain.
    """

    default_mimetype = "application/json"

"""The WSGI vocabulary of the endpoint's own routes: werkzeug's Request and a JSON Response.

Our routes (``front``, ``sources.function_urls``) read requests through werkzeug's
``Request`` and answer with ``JsonResponse``; werkzeug sets ``Content-Length``
(so its server never needs chunking) and the status line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

__all__ = ["JsonResponse", "Request", "StartResponse", "WSGIApp"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class JsonResponse(Response):
    """A response whose Content-Type is ``application/json`` unless its headers name one.

    AWS's Lambda API and function URLs default to JSON; werkzeug's default is text/plain.
    """

    default_mimetype = "application/json"

"""Rate limits of the public pages, per client address (django-ratelimit, default cache).

``over_limit`` counts one request and tells whether the address went past the rate read
from ``settings.<setting>`` ("60/m": 60 a minute; "10/10m": 10 per 10 minutes). The
``rate_limited`` decorator answers 429 (a page, or JSON) past that rate. Counts live in the
default cache: use a shared cache (CACHE_URL) when several processes serve the site.
"""

from collections.abc import Iterable
from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited

from .http import client_ip

ALL_METHODS = (None,)  # django-ratelimit's "any method"
RETRY_AFTER_SECONDS = 60


def _client_ip(group, request) -> str:
    return client_ip(request)


def over_limit(
    request, *, group: str, setting: str, default: str, methods: Iterable[str | None] = ALL_METHODS
) -> bool:
    """Count this request (when its method is one of ``methods``) and say whether the client
    address is past the rate of ``settings.<setting>`` (``default`` when unset)."""
    rate = getattr(settings, setting, default)
    return is_ratelimited(
        request, group=group, key=_client_ip, rate=rate, method=tuple(methods), increment=True
    )


def rate_limited(
    group: str,
    setting: str,
    default: str,
    *,
    template: str,
    message="",
    json: bool = False,
    methods: Iterable[str | None] = ALL_METHODS,
):
    """Refuse with 429 past ``settings.<setting>`` requests per address: render ``template``
    (or, with ``json``, answer ``{"detail": message}``)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if over_limit(request, group=group, setting=setting, default=default, methods=methods):
                response = (
                    JsonResponse({"detail": str(message)}, status=429)
                    if json
                    else render(request, template, {"message": message}, status=429)
                )
                response["Retry-After"] = str(RETRY_AFTER_SECONDS)
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator

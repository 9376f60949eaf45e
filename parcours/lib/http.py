"""The client's address, the same way everywhere (rate limits, lock-outs, audit)."""

from django.conf import settings


def client_ip(request) -> str:
    """The visitor's address. Behind ``PROXY_COUNT`` reverse proxies (the setting axes reads
    too) it is the address the outermost proxy saw, taken from X-Forwarded-For; without
    proxies the header is ignored, since any client can send it."""
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", None) or 0
    if proxies:
        forwarded = [ip.strip() for ip in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= proxies and forwarded[-proxies]:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")

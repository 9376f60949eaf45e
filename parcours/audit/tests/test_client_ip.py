"""The client address recorded by the audit trail and used by rate limits."""

from django.test import RequestFactory

from parcours.audit.services import request_ip
from parcours.lib.http import client_ip


def request(remote="10.0.0.5", forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_without_proxies_a_forwarded_header_is_ignored(settings):
    settings.AXES_IPWARE_PROXY_COUNT = None
    assert client_ip(request(forwarded="203.0.113.9")) == "10.0.0.5"
    assert request_ip(request(forwarded="203.0.113.9")) == "10.0.0.5"


def test_behind_one_proxy_the_address_it_saw_is_used(settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    spoofed = request(forwarded="198.51.100.1, 203.0.113.9")  # the client sent the first one
    assert client_ip(spoofed) == "203.0.113.9"
    assert request_ip(spoofed) == "203.0.113.9"
    assert client_ip(request()) == "10.0.0.5"  # no header: the proxy's own address


def test_a_malformed_address_is_not_stored(settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    assert request_ip(request(forwarded="not-an-ip")) is None

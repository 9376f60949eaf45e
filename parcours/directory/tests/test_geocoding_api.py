"""The optional national address API: asked only for what the offline BAN lacks; any failure
falls back to the commune centre. A local HTTP server plays the API (no network in tests)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from parcours.directory.geocoding import geocode
from parcours.territory.models import Commune

pytestmark = pytest.mark.django_db


def feature(kind, score, lon=4.8901, lat=45.7012, citycode="69259"):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"type": kind, "score": score, "citycode": citycode},
    }


class FakeApi(BaseHTTPRequestHandler):
    answer: object = {"features": []}
    asked: list = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        FakeApi.asked.append(parse_qs(urlsplit(self.path).query))
        body = self.answer if isinstance(self.answer, bytes) else json.dumps(self.answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def api(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.BAN_API_URL = f"http://127.0.0.1:{server.server_port}/search/"
    FakeApi.asked = []
    yield FakeApi
    server.shutdown()
    server.server_close()


@pytest.fixture
def venissieux():
    return Commune.objects.create(
        insee="69259",
        name="Vénissieux",
        departement="69",
        region="84",
        latitude=45.6978,
        longitude=4.8867,
    )


def test_it_asks_the_api_in_the_commune_and_records_the_precision(api, venissieux):
    api.answer = {"features": [feature("housenumber", 0.91)]}
    found = geocode(address="12 rue Paul Bert", commune=venissieux)
    assert (found.latitude, found.longitude, found.precision) == (45.7012, 4.8901, "address")
    assert api.asked == [{"q": ["12 rue Paul Bert"], "citycode": ["69259"], "limit": ["1"]}]


@pytest.mark.parametrize(
    "answer",
    [
        {"features": []},
        {"features": [feature("housenumber", 0.2)]},  # poor match
        {"features": [feature("municipality", 0.9)]},  # only the commune
        {"features": [feature("housenumber", 0.9, citycode="75056")]},  # another commune
        b"<html>maintenance</html>",  # not JSON
    ],
)
def test_a_poor_or_broken_answer_falls_back_to_the_commune_centre(api, venissieux, answer):
    api.answer = answer
    found = geocode(address="12 rue Paul Bert", commune=venissieux)
    assert (found.latitude, found.precision) == (45.6978, "commune")


def test_an_unreachable_api_falls_back_quickly(settings, venissieux):
    settings.BAN_API_URL = "http://127.0.0.1:9/search/"  # discard port: connection refused
    settings.BAN_API_TIMEOUT = 1
    assert geocode(address="12 rue Paul Bert", commune=venissieux).precision == "commune"


def test_without_the_setting_nothing_is_asked(api, settings, venissieux):
    settings.BAN_API_URL = ""
    assert geocode(address="12 rue Paul Bert", commune=venissieux).precision == "commune"
    assert api.asked == []

"""The layout and the allauth pages keep to the CSP and to the accessibility basics.

The Content-Security-Policy allows scripts and styles from our origin only: an inline
<script> or a style="" attribute would be blocked in the browser, so none may be rendered.
"""

from html.parser import HTMLParser

import pytest

pytestmark = pytest.mark.django_db


class PageParser(HTMLParser):
    """Collects what the assertions look at: scripts, style attributes, inputs, labels, links."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts = 0
        self.style_attributes: list[str] = []
        self.inputs: list[dict] = []
        self.label_fors: set[str] = set()
        self.links: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "style" in attributes:
            self.style_attributes.append(tag)
        if (
            tag == "script"
            and not attributes.get("src")
            and attributes.get("type") != "application/json"
        ):
            self.inline_scripts += 1
        elif tag == "input":
            self.inputs.append(attributes)
        elif tag == "label" and attributes.get("for"):
            self.label_fors.add(attributes["for"])
        elif tag == "a":
            self.links.append(attributes)


def parse(response) -> PageParser:
    assert response.status_code == 200
    parser = PageParser()
    parser.feed(response.content.decode())
    return parser


def assert_csp_safe_and_skippable(page: PageParser) -> None:
    assert page.inline_scripts == 0
    assert page.style_attributes == []
    skip_links = [link for link in page.links if link.get("href") == "#contenu"]
    assert skip_links and "skip-link" in skip_links[0].get("class", "")


def test_it_renders_the_login_page_without_inline_code_and_with_a_label_per_input(client):
    page = parse(client.get("/comptes/login/"))
    assert_csp_safe_and_skippable(page)
    visible = [i for i in page.inputs if i.get("type") not in ("hidden", "submit")]
    assert {i["name"] for i in visible} >= {"login", "password"}
    for field in visible:
        assert field["id"] in page.label_fors, field


def test_it_lists_login_errors_in_a_summary_and_next_to_the_fields(client):
    response = client.post("/comptes/login/", {"login": "", "password": ""})
    page = parse(response)
    assert_csp_safe_and_skippable(page)
    html = response.content.decode()
    assert 'class="alert alert-danger error-summary"' in html
    assert 'href="#id_login"' in html
    email = next(i for i in page.inputs if i.get("name") == "login")
    assert email.get("aria-invalid") == "true"
    assert "id_login_error" in email.get("aria-describedby", "")
    assert 'id="id_login_error"' in html


def test_it_renders_the_public_home_page_without_inline_code(client):
    page = parse(client.get("/"))
    assert_csp_safe_and_skippable(page)
    assert any(link.get("href") == "/comptes/login/" for link in page.links)


def test_it_renders_the_coordinator_home_page_without_inline_code(client, claire):
    client.force_login(claire)
    response = client.get("/")
    page = parse(response)
    assert_csp_safe_and_skippable(page)
    assert "CPTS de Vénissieux" in response.content.decode()


@pytest.mark.parametrize("cast", ["manon", "alain", "dr_martin", "paul"])
def test_it_renders_each_role_home_page_without_inline_code(client, request, cast):
    client.force_login(request.getfixturevalue(cast))
    assert_csp_safe_and_skippable(parse(client.get("/")))

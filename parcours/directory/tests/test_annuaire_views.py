"""The annuaire's pages: the public annuaire (anyone, public fields only, rate-limited,
counted) and the staff search (private fields, the organisation's services, availability)."""

import pytest
from django.urls import reverse

from parcours.directory.models import Consultation
from parcours.directory.search import search_index_rebuild

from .annuaire_corpus import annuaire_corpus
from .directory_factories import PracticeSituationFactory

pytestmark = pytest.mark.django_db

PUBLIC = reverse("directory:annuaire")
STAFF = reverse("directory:search")
PUBLIC_MAP = reverse("directory:annuaire-map")
STAFF_MAP = reverse("directory:search-map")
AROUND_VENISSIEUX = (-0.2, 45.5, 5.2, 45.9)  # west, south, east, north (not Strasbourg)
FRANCE = "-5,41,10,51"
PRIVATE = [
    "chloe.martin.prive@example.org",
    "04 72 22 22 22",  # Lefèvre's phone
    "04 72 99 99 99",  # the hospital's phone
]


@pytest.fixture
def corpus(org_a, org_b):
    return annuaire_corpus(org_a, org_b)


def names(response) -> list[str]:
    return [item["name"] for item in response.context["items"]]


def count(public: bool) -> int:
    row = Consultation.objects.filter(public=public).first()
    return row.count if row else 0


# --- Public annuaire -------------------------------------------------------------------


def test_it_opens_to_anyone_with_a_form_and_no_results_yet(client, corpus):
    response = client.get(PUBLIC)
    assert response.status_code == 200
    assert "Rechercher" in response.content.decode()
    assert not response.context["searched"]
    assert count(public=True) == 0


def test_a_resident_finds_kines_near_a_commune_nearest_first(client, corpus):
    response = client.get(PUBLIC, {"q": "kiné", "commune": "Vénissieux", "radius": "10"})
    assert names(response) == [
        "Chloé Martin",
        "Rémi Garnier",
        "Noël Lefèvre",
        "Paul Girard",
        "Marc Roux",
    ]  # Jeanne Weber practises in Strasbourg
    distances = [item["distance_km"] for item in response.context["items"]]
    assert distances == sorted(distances) and distances[-1] < 10
    html = response.content.decode()
    assert "5 résultats" in html and "autour de Vénissieux" in html


def test_the_guide_social_is_searched_together_with_the_directory(client, corpus, claire):
    response = client.get(PUBLIC, {"q": "mutuelle"})
    assert [page.slug for page in response.context["guide"]] == ["c2s"]
    assert "/annuaire/guide/c2s/" in response.content.decode()
    client.force_login(claire)
    staff = client.get("/annuaire/recherche/", {"q": "domiciliation"})
    assert staff.context["guide"][0].slug == "domiciliation"
    assert client.get(PUBLIC, {"commune": "Vénissieux"}).context["guide"] == []


def test_the_public_sees_public_contacts_only(client, corpus):
    response = client.get(PUBLIC, {"q": "kiné", "commune": "69200"})
    html = response.content.decode()
    assert "04 72 11 11 11" in html  # Chloé Martin's public phone
    assert "cabinet.lefevre@example.org" in html  # Lefèvre's public e-mail
    for private in PRIVATE:
        assert private not in html
    hospital = client.get(PUBLIC, {"q": "centre hospitalier"}).content.decode()
    assert "accueil.ch@example.org" in hospital and "04 72 99 99 99" not in hospital


def test_the_public_never_sees_services_even_when_a_member_looks(client, corpus, claire):
    client.force_login(claire)
    response = client.get(PUBLIC, {"q": "ccas"})
    assert names(response) == []
    assert "04 72 33 33 33" not in response.content.decode()


def test_each_public_search_is_counted_once_without_the_query(client, corpus):
    client.get(PUBLIC, {"q": "kiné"})
    client.get(PUBLIC, {"q": "médecin"})
    client.get(PUBLIC, {"q": "médecin", "page": "2"})  # paging the same search
    client.get(PUBLIC)  # the empty form
    assert count(public=True) == 2 and count(public=False) == 0
    assert list(Consultation.objects.values_list("public", "count")) == [(True, 2)]


def test_facets_are_counted_and_link_to_their_filter(client, corpus):
    response = client.get(PUBLIC, {"q": "kiné médecin"})  # nothing: every word must match
    assert names(response) == []
    response = client.get(PUBLIC, {"commune": "Vénissieux", "radius": "10"})
    facets = {group["param"]: group for group in response.context["facets"]}
    professions = {o["label"]: o["count"] for o in facets["profession"]["options"]}
    assert professions == {"Masseur-Kinésithérapeute": 5, "Médecin": 6}
    assert "accepting" not in facets  # the organisations' surveys are not public
    kine = next(o for o in facets["profession"]["options"] if o["count"] == 5)
    assert "profession=70" in kine["url"]
    filtered = client.get(PUBLIC + kine["url"])
    assert len(names(filtered)) == 5
    modes = {o["label"]: o["count"] for o in facets["mode"]["options"]}
    assert modes == {"Libéral": 10, "Salarié": 1}
    languages = {o["label"]: o["count"] for o in facets["language"]["options"]}
    assert languages == {"français": 11, "anglais": 1, "arabe": 1}
    html = response.content.decode()
    assert "Masseur-Kinésithérapeute" in html and "Mode d&#x27;exercice" in html


def test_a_facet_link_keeps_the_search_and_can_be_removed(client, corpus):
    response = client.get(PUBLIC, {"commune": "Vénissieux", "located_in": "69199"})
    assert names(response) == ["Éric Dupont", "Noël Lefèvre"]  # nearest first
    chips = response.context["active_filters"]
    assert [(c["title"], c["label"]) for c in chips] == [("Commune", "Saint-Fons")]
    assert "located_in" not in chips[0]["remove_url"]
    assert 'name="located_in" value="69199"' in response.content.decode()


def test_results_are_paginated_keeping_the_query(client, corpus):
    venissieux = corpus.communes["69259"]
    for _ in range(20):
        PracticeSituationFactory(
            professional__profession_code="70",
            professional__profession="Masseur-Kinésithérapeute",
            commune=venissieux,
            structure=None,
        )
    search_index_rebuild()
    search = {"q": "kiné", "commune": "Vénissieux"}
    first = client.get(PUBLIC, search)
    assert first.context["result"].page.paginator.count == 25 and len(names(first)) == 20
    html = first.content.decode()
    assert "Page 1 sur 2" in html
    assert "?q=kin%C3%A9&amp;commune=V%C3%A9nissieux&amp;page=2" in html
    second = client.get(PUBLIC, {**search, "page": "2"})
    assert len(names(second)) == 5 and not set(names(first)) & set(names(second))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"commune": "Vénissieux", "radius": "dix"}, "Le rayon doit être un nombre de kilomètres"),
        ({"commune": "Vénissieux", "radius": "500"}, "ne peut pas dépasser 200 km"),
        ({"commune": "Atlantide"}, "Aucune commune ne correspond à « Atlantide »"),
        ({"commune": "Saint-Denis"}, "Plusieurs communes correspondent"),
        ({"q": "kiné", "profession": "ZZ"}, "Cette profession n&#x27;est pas dans l&#x27;annuaire"),
        ({"q": "kiné", "kind": "service"}, "Ce type de fiche n&#x27;existe pas"),
        ({"q": "kiné", "mode": "X"}, "Ce mode d&#x27;exercice n&#x27;existe pas"),
    ],
)
def test_bad_input_gets_a_french_message_not_a_500(client, corpus, params, message):
    response = client.get(PUBLIC, params)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not response.context["searched"]
    assert count(public=True) == 0


def test_an_ambiguous_commune_offers_each_choice(client, corpus):
    response = client.get(PUBLIC, {"q": "kiné", "commune": "saint denis"})
    html = response.content.decode()
    assert "département 93" in html and "département 974" in html
    assert "commune=Saint-Denis+%2893066%29" in html
    chosen = client.get(PUBLIC, {"q": "kiné", "commune": "Saint-Denis (93066)"})
    assert chosen.context["searched"] and names(chosen) == []


@pytest.mark.parametrize(
    "typed", ["Vénissieux", "VENISSIEUX", "venissieux", "69200", "Vénissieux (69259)", "69259"]
)
def test_a_commune_is_found_however_it_is_typed(client, corpus, typed):
    response = client.get(PUBLIC, {"q": "kiné", "commune": typed, "radius": "1"})
    assert response.context["commune"].insee == "69259"
    assert names(response) == ["Chloé Martin", "Rémi Garnier"]


def test_a_postal_code_prefers_the_arrondissement_to_its_city(client, corpus):
    response = client.get(PUBLIC, {"q": "kiné", "commune": "69008", "radius": "1"})
    assert response.context["commune"].insee == "69388"
    assert names(response) == ["Paul Girard"]


def test_a_commune_without_a_known_centre_lists_what_is_in_it(client, corpus):
    response = client.get(PUBLIC, {"commune": "01400"})
    assert response.context["searched"] and names(response) == []
    assert "La position de L&#x27;Abergement-Clémenciat n’est pas connue" in (
        response.content.decode()
    )


def test_a_page_number_that_is_not_one_shows_the_first_page(client, corpus):
    response = client.get(PUBLIC, {"q": "kiné", "page": "abc"})
    assert response.status_code == 200 and response.context["result"].page.number == 1
    response = client.get(PUBLIC, {"q": "kiné", "page": "999"})
    assert response.status_code == 200


# --- Rate limit ----------------------------------------------------------------------------


def test_too_many_public_searches_get_a_french_429(client, corpus, settings):
    settings.ANNUAIRE_RATE_LIMIT = "3/m"
    for _ in range(3):
        assert client.get(PUBLIC, {"q": "kiné"}).status_code == 200
    response = client.get(PUBLIC, {"q": "kiné"})
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "Trop de recherches" in response.content.decode()
    assert count(public=True) == 3
    other = client.get(PUBLIC, {"q": "kiné"}, REMOTE_ADDR="192.0.2.7")  # another visitor
    assert other.status_code == 200


def test_the_map_has_its_own_limit_answered_in_json(client, corpus, settings):
    settings.ANNUAIRE_MAP_RATE_LIMIT = "1/m"
    assert client.get(PUBLIC_MAP, {"q": "kiné", "bbox": FRANCE}).status_code == 200
    response = client.get(PUBLIC_MAP, {"q": "kiné", "bbox": FRANCE})
    assert response.status_code == 429
    assert "Trop de recherches" in response.json()["detail"]


def test_the_limit_counts_the_address_the_proxy_saw(client, corpus, settings):
    settings.ANNUAIRE_RATE_LIMIT = "1/m"
    settings.AXES_IPWARE_PROXY_COUNT = 1
    first = client.get(PUBLIC, HTTP_X_FORWARDED_FOR="198.51.100.1")
    second = client.get(PUBLIC, HTTP_X_FORWARDED_FOR="198.51.100.2")
    again = client.get(PUBLIC, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert (first.status_code, second.status_code, again.status_code) == (200, 200, 429)


def test_staff_pages_are_not_rate_limited(client, corpus, claire, settings):
    settings.ANNUAIRE_RATE_LIMIT = "1/m"
    client.force_login(claire)
    assert [client.get(STAFF, {"q": "kiné"}).status_code for _ in range(3)] == [200] * 3


# --- Map ------------------------------------------------------------------------------------


def test_the_map_answers_the_points_of_the_list_in_the_viewport(client, corpus):
    bbox = ",".join(str(v) for v in AROUND_VENISSIEUX)
    body = client.get(PUBLIC_MAP, {"q": "kiné", "bbox": bbox}).json()
    assert body["total"] == 5 and body["clusters"] == []
    assert {p["name"] for p in body["points"]} == {
        "Chloé Martin",
        "Rémi Garnier",
        "Noël Lefèvre",
        "Paul Girard",
        "Marc Roux",
    }
    assert set(body["points"][0]) == {"id", "name", "latitude", "longitude"}


def test_the_map_shares_the_radius_of_the_list(client, corpus):
    params = {"q": "kiné", "commune": "Vénissieux", "radius": "4", "bbox": FRANCE}
    body = client.get(PUBLIC_MAP, params).json()
    assert {p["name"] for p in body["points"]} == {"Chloé Martin", "Rémi Garnier", "Noël Lefèvre"}
    everywhere = client.get(PUBLIC_MAP, {"q": "kiné", "bbox": FRANCE}).json()
    assert everywhere["total"] == 6  # with Strasbourg


def test_the_public_map_has_no_services_and_the_staff_map_has_its_own(client, corpus, claire):
    assert client.get(PUBLIC_MAP, {"q": "ccas", "bbox": FRANCE}).json()["total"] == 0
    client.force_login(claire)
    body = client.get(STAFF_MAP, {"q": "ccas", "bbox": FRANCE}).json()
    assert [p["name"] for p in body["points"]] == ["CCAS de Vénissieux"]


@pytest.mark.parametrize("bbox", ["", "nord", "1,2,3", "5,45,4,46", "-200,0,0,10"])
def test_a_bad_viewport_is_explained_in_french(client, corpus, bbox):
    response = client.get(PUBLIC_MAP, {"q": "kiné", "bbox": bbox})
    assert response.status_code == 422
    assert "ouest,sud,est,nord" in response.json()["detail"]


def test_a_bad_filter_on_the_map_is_explained_in_french(client, corpus):
    response = client.get(PUBLIC_MAP, {"radius": "dix", "commune": "Bron", "bbox": FRANCE})
    assert response.status_code == 422
    assert "Le rayon doit être un nombre" in response.json()["detail"]


# --- Staff search ---------------------------------------------------------------------------


def test_staff_see_private_contacts_and_their_services(client, corpus, claire):
    client.force_login(claire)
    response = client.get(STAFF, {"q": "vénissieux"})
    html = response.content.decode()
    assert "CCAS de Vénissieux" in names(response)
    assert "CCAS secret de B" not in names(response)
    assert "04 72 33 33 33" in html and "chloe.martin.prive@example.org" in html
    assert "04 72 99 99 99" in html
    assert "privé" in html
    assert count(public=False) == 1 and count(public=True) == 0


def test_staff_facets_count_gps_accepting_new_patients(client, corpus, claire):
    client.force_login(claire)
    response = client.get(STAFF, {"profession": "10"})
    facets = {group["param"]: group for group in response.context["facets"]}
    accepting = {o["label"]: o["count"] for o in facets["accepting"]["options"]}
    # Durand now, Dupont within six months, Bernard no; Petit's has expired, Moreau's is B's.
    assert accepting == {"Oui, dès maintenant": 1, "Dans les 6 mois": 1, "Non": 1}
    assert "Accepte de nouveaux patients" in response.content.decode()


def test_a_coordinator_filters_gps_accepting_new_patients(client, corpus, claire):
    client.force_login(claire)
    response = client.get(STAFF, {"profession": "10", "accepting": "now"})
    assert names(response) == ["Amélie Durand"]
    html = response.content.decode()
    assert "Accepte de nouveaux patients : oui, dès maintenant (15 patients)" in html
    later = client.get(STAFF, {"profession": "10", "accepting": "within_6_months"})
    assert names(later) == ["Éric Dupont"]


def test_the_organisation_b_sees_its_own_declarations(client, corpus, bruno):
    client.force_login(bruno)
    response = client.get(STAFF, {"profession": "10", "accepting": "now"})
    assert names(response) == ["Sophie Moreau"]


def test_staff_filter_by_language_and_mode(client, corpus, claire):
    client.force_login(claire)
    assert names(client.get(STAFF, {"q": "kiné", "language": "en"})) == ["Chloé Martin"]
    assert names(client.get(STAFF, {"q": "kiné", "mode": "S"})) == ["Paul Girard"]


def test_editors_get_a_link_to_edit_their_services(client, corpus, claire, manon):
    edit = reverse("directory:service-edit", args=[corpus.service_a.pk])
    client.force_login(claire)
    assert edit in client.get(STAFF, {"q": "ccas"}).content.decode()
    client.force_login(manon)
    response = client.get(STAFF, {"q": "ccas"})
    assert names(response) == ["CCAS de Vénissieux"]
    assert edit not in response.content.decode()


# --- Entry pages ---------------------------------------------------------------------------


def entry_url(name: str, kind: str, ref_id: int) -> str:
    return reverse(name, args=[kind, ref_id])


def test_an_entry_page_shows_public_fields_to_the_public(client, corpus):
    martin = corpus.people["Martin"]
    response = client.get(entry_url("directory:annuaire-detail", "professional", martin.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Chloé Martin" in html and "Masseur-Kinésithérapeute" in html
    assert "04 72 11 11 11" in html and "chloe.martin.prive@example.org" not in html
    assert martin.professional.rpps in html
    lefevre = corpus.people["Lefèvre"]
    html = client.get(entry_url("directory:annuaire-detail", "professional", lefevre.pk))
    assert "04 72 22 22 22" not in html.content.decode()
    hospital = client.get(entry_url("directory:annuaire-detail", "structure", corpus.structure.pk))
    assert "04 72 99 99 99" not in hospital.content.decode()


def test_the_public_entry_page_never_shows_availability(client, corpus):
    durand = corpus.people["Durand"]
    html = client.get(entry_url("directory:annuaire-detail", "professional", durand.pk))
    assert "nouveaux patients" not in html.content.decode()


def test_services_and_unknown_entries_are_not_found_by_the_public(client, corpus):
    service = corpus.service_a.pk
    assert client.get(entry_url("directory:annuaire-detail", "service", service)).status_code == 404
    assert client.get(
        entry_url("directory:annuaire-detail", "professional", 999999)
    ).status_code == (404)
    assert client.get(entry_url("directory:annuaire-detail", "autre", 1)).status_code == 404


def test_staff_entry_pages_show_private_fields_and_availability(client, corpus, claire):
    client.force_login(claire)
    durand = corpus.people["Durand"]
    html = client.get(entry_url("directory:search-detail", "professional", durand.pk))
    html = html.content.decode()
    assert durand.email in html and durand.phone in html
    assert "oui, dès maintenant" in html and "15 patients" in html
    service = client.get(entry_url("directory:search-detail", "service", corpus.service_a.pk))
    assert "04 72 33 33 33" in service.content.decode()
    assert "Modifier ce service" in service.content.decode()
    other = client.get(entry_url("directory:search-detail", "service", corpus.service_b.pk))
    assert other.status_code == 404


def test_the_entry_page_links_back_to_the_search(client, corpus):
    martin = corpus.people["Martin"]
    url = entry_url("directory:annuaire-detail", "professional", martin.pk)
    response = client.get(url, {"retour": "q=kin%C3%A9&commune=69200"})
    assert 'href="/annuaire/?q=kin%C3%A9&amp;commune=69200"' in response.content.decode()


# --- Navigation ----------------------------------------------------------------------------


def test_the_navigation_leads_each_one_to_their_annuaire(client, corpus, claire, dr_martin):
    assert f'href="{PUBLIC}"' in client.get(reverse("core:home")).content.decode()
    client.force_login(claire)
    assert f'href="{STAFF}"' in client.get(reverse("core:home")).content.decode()
    client.force_login(dr_martin)
    assert f'href="{PUBLIC}"' in client.get(reverse("core:home")).content.decode()

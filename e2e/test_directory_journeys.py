"""The annuaire's journeys: a resident searches the public annuaire and its map; a
coordinator finds the GPs who accept new patients."""

import re

import pytest
from playwright.sync_api import expect

from e2e.test_foundation_journeys import log_in
from parcours.directory.tests.annuaire_corpus import annuaire_corpus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KINES_NEAR_VENISSIEUX = ["Chloé Martin", "Rémi Garnier", "Noël Lefèvre", "Paul Girard", "Marc Roux"]


@pytest.fixture
def corpus(org_a, org_b):
    return annuaire_corpus(org_a, org_b)


def result_names(page) -> list[str]:
    return page.locator("#annuaire-results .annuaire-result-link").all_inner_texts()


def markers_shown(page) -> int:
    """Entries drawn on the map: single markers plus what each cluster icon counts."""
    return page.evaluate(
        """() => {
          const map = document.getElementById("annuaire-map");
          const single = map.querySelectorAll(".leaflet-marker-icon.annuaire-marker").length;
          const grouped = [...map.querySelectorAll(".leaflet-marker-icon.marker-cluster span")]
            .reduce((sum, span) => sum + parseInt(span.textContent, 10), 0);
          return single + grouped;
        }"""
    )


def test_a_resident_searches_kines_near_a_commune_and_sees_them_on_the_map(page, corpus):
    page.goto("/annuaire/")
    page.get_by_label("Rechercher", exact=True).fill("kiné")
    page.get_by_label("Autour de la commune").fill("Vénissieux")
    page.get_by_label("Rayon (km)").fill("10")
    page.get_by_role("button", name="Rechercher", exact=True).click()

    expect(page.get_by_role("heading", name=re.compile("5 résultats"))).to_contain_text(
        "autour de Vénissieux"
    )
    assert result_names(page) == KINES_NEAR_VENISSIEUX  # nearest first; not Strasbourg
    assert "chloe.martin.prive@example.org" not in page.content()  # private: never public

    map_box = page.locator("#annuaire-map")
    expect(map_box).to_have_attribute("data-loaded", "true")
    expect(map_box).to_have_attribute("data-marker-count", "5")
    assert page.locator("#annuaire-map .leaflet-marker-icon").count() >= 1
    assert markers_shown(page) == 5

    # The keyboard: skip to the results, then each result's link and its map button.
    page.get_by_role("link", name="Aller aux résultats").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Chloé Martin")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("04 72 11 11 11")  # her public phone
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_accessible_name("Voir sur la carte : Chloé Martin")
    page.keyboard.press("Enter")
    selected = page.locator("#annuaire-map .annuaire-marker.is-selected")
    expect(selected).to_have_count(1)
    expect(selected).to_have_attribute("aria-label", "Chloé Martin")
    expect(page.locator("#annuaire-map .leaflet-popup")).to_contain_text("Chloé Martin")
    expect(page.locator("#annuaire-results .is-selected")).to_contain_text("Chloé Martin")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Rémi Garnier")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Rémi Garnier")
    expect(page.get_by_text("Masseur-Kinésithérapeute").first).to_be_visible()
    expect(page.locator("#annuaire-entry-map")).to_have_attribute("data-loaded", "true")
    page.get_by_role("link", name="Retour à l’annuaire").click()
    assert result_names(page) == KINES_NEAR_VENISSIEUX


def test_a_coordinator_filters_gps_accepting_new_patients(page, corpus, claire):
    log_in(page, claire, second_factor=True)
    page.get_by_role("navigation").get_by_role("link", name="Annuaire").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recherche dans l’annuaire")
    page.get_by_label("Profession").select_option(label="Médecin")
    page.get_by_role("button", name="Rechercher", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("6 résultats"))).to_be_visible()

    accepting = page.get_by_role("region", name="Accepte de nouveaux patients")
    accepting.get_by_role("link", name=re.compile("Oui, dès maintenant")).click()

    expect(page.get_by_role("heading", name=re.compile("1 résultat"))).to_be_visible()
    assert result_names(page) == ["Amélie Durand"]
    expect(page.locator("#annuaire-results")).to_contain_text(
        "Accepte de nouveaux patients : oui, dès maintenant (15 patients)"
    )
    expect(page.get_by_role("combobox", name="Accepte de nouveaux patients")).to_have_value("now")
    map_box = page.locator("#annuaire-map")
    expect(map_box).to_have_attribute("data-loaded", "true")
    expect(map_box).to_have_attribute("data-marker-count", "1")

    page.get_by_role("combobox", name="Accepte de nouveaux patients").select_option(
        label="Dans les 6 mois"
    )
    page.get_by_role("button", name="Rechercher", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("1 résultat"))).to_be_visible()
    assert result_names(page) == ["Éric Dupont"]

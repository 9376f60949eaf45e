"""Routes of the médecin traitant search. Each view declares its access rule."""

from django.urls import path

from . import escalation_views, gp_views, link_views, views

app_name = "matching"

urlpatterns = [
    # The GP answers an anonymous solicitation from the e-mail's signed links.
    path("demande/<str:token>/", link_views.solicitation_answer, name="solicitation-answer"),
    # The coordinator's pages (views.py).
    path("", views.search_list, name="search-list"),
    path("nouvelle/personne/<int:person_id>/", views.search_open_person, name="search-open-person"),
    path(
        "nouvelle/saisine/<int:saisine_id>/", views.search_open_saisine, name="search-open-saisine"
    ),
    path("<int:search_id>/", views.search_detail, name="search-detail"),
    path("<int:search_id>/preferences/", views.search_update, name="search-update"),
    path("<int:search_id>/vague/", views.search_wave, name="search-wave"),
    path("<int:search_id>/choix/", views.search_choice, name="search-choice"),
    path("<int:search_id>/declaration/", views.search_declared, name="search-declared"),
    path("<int:search_id>/cloturer/", views.search_close, name="search-close"),
    # Escalation (escalation_views.py): call round, IPA route, médiateur; the figures.
    path("<int:search_id>/appels/", escalation_views.call_round, name="call-round"),
    path("<int:search_id>/ipa/", escalation_views.search_ipa, name="search-ipa"),
    path(
        "<int:search_id>/ipa/proposition/",
        escalation_views.search_ipa_propose,
        name="search-ipa-propose",
    ),
    path("<int:search_id>/mediateur/", escalation_views.search_handoff, name="search-handoff"),
    path("chiffres/", escalation_views.figures, name="figures"),
    # The GP's own pages (gp_views.py) and the administrator's account linking.
    path("mon-espace/", gp_views.gp_home, name="gp-home"),
    path("mon-espace/disponibilite/", gp_views.gp_availability, name="gp-availability"),
    path("mon-espace/demandes/<int:solicitation_id>/", gp_views.gp_answer, name="gp-answer"),
    path(
        "mon-espace/patients/<int:search_id>/bulletin/",
        gp_views.gp_bulletin,
        name="gp-bulletin",
    ),
    path("comptes-medecins/", gp_views.professional_accounts, name="professional-accounts"),
]

"""A saisine's states: creation, each transition as a service, and the rules that hold
whatever the sequence of actions (a hypothesis state machine), including under concurrency."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from parcours.audit.models import Action, AuditEvent
from parcours.saisines import services
from parcours.saisines.models import Decision, Saisine, SaisineEvent, Status
from parcours.saisines.services import TransitionRefused
from parcours.saisines.tests.saisine_factories import PersonFactory, SaisineFactory

DATA = {
    "origin": "social_worker",
    "channel": "web",
    "requester_name": "Sophie Martin",
    "requester_email": "sophie@example.org",
    "bulletin": "medico_social",
    "difficulty": "Plus de droits ouverts.",
    "consent_given": True,
}


def events(saisine, **filters) -> list[SaisineEvent]:
    with scopes_disabled():
        return list(SaisineEvent.objects.filter(saisine=saisine, **filters).order_by("at", "id"))


def reload(saisine) -> Saisine:
    with scopes_disabled():
        return Saisine.objects.get(pk=saisine.pk)


# --- Creation ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_creates_a_received_saisine_with_a_reference_an_event_and_an_audit_event(org_a, claire):
    saisine = services.saisine_create(organisation=org_a, data=DATA, by=claire)

    year = timezone.localdate().year
    assert saisine.reference == f"S-{year}-000001"
    assert saisine.status == Status.RECEIVED
    assert saisine.received_at is not None
    assert saisine.created_by == claire
    [created] = events(saisine)
    assert (created.kind, created.to_status, created.by) == ("created", "received", claire)
    audit = AuditEvent.objects.filter(action=Action.CREATE, object_id=str(saisine.pk)).get()
    assert audit.object_type == "saisines.saisine"
    assert "Sophie" not in str(audit.details)


@pytest.mark.django_db
def test_references_follow_each_other_per_organisation_and_year(org_a, org_b):
    year = timezone.localdate().year
    SaisineFactory(organisation=org_a, reference=f"S-{year - 1}-000041")
    first = services.saisine_create(organisation=org_a, data=DATA)
    second = services.saisine_create(organisation=org_a, data=DATA)
    other = services.saisine_create(organisation=org_b, data=DATA)

    assert first.reference == f"S-{year}-000001"
    assert second.reference == f"S-{year}-000002"
    assert other.reference == f"S-{year}-000001"


@pytest.mark.django_db
def test_the_same_submission_key_gives_back_the_saisine_already_created(org_a):
    first = services.saisine_create(organisation=org_a, data=DATA, submission_key="abc123")
    again = services.saisine_create(organisation=org_a, data=DATA, submission_key="abc123")
    other = services.saisine_create(organisation=org_a, data=DATA, submission_key="def456")

    assert again.pk == first.pk
    assert other.pk != first.pk
    with scopes_disabled():
        assert Saisine.objects.count() == 2
    assert len(events(first)) == 1


@pytest.mark.django_db
def test_bad_data_is_refused_with_a_french_message_and_nothing_saved(org_a):
    with pytest.raises(ValidationError) as error:
        services.saisine_create(organisation=org_a, data={**DATA, "origin": "martian"})
    assert "origin" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.saisine_create(organisation=org_a, data={**DATA, "requester_email": "x@"})
    with scopes_disabled():
        assert Saisine.objects.count() == 0


@pytest.mark.django_db
def test_a_person_of_another_organisation_is_refused(org_a, org_b):
    stranger = PersonFactory(organisation=org_b)
    with pytest.raises(ValidationError, match="n'appartient pas"):
        services.saisine_create(organisation=org_a, data={**DATA, "person": stranger})


@pytest.mark.django_db
def test_fields_of_the_workflow_cannot_be_set_at_creation(org_a):
    with pytest.raises(ValueError, match="status"):
        services.saisine_create(organisation=org_a, data={**DATA, "status": "closed"})


# --- Transitions ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_saisine_goes_from_received_to_closed_each_step_dated_and_audited(org_a, claire):
    saisine = services.saisine_create(organisation=org_a, data=DATA, by=claire)

    services.saisine_triage(saisine=saisine, by=claire, complexity={"social": 2}, level=2)
    assert (saisine.status, saisine.complexity_level) == ("triaged", 2)
    services.saisine_decide(saisine=saisine, by=claire, decision="information", note="CSS")
    assert saisine.status == "in_progress"
    assert (saisine.decision, saisine.decision_note) == ("information", "CSS")
    assert saisine.decided_at is not None
    assert saisine.first_response_at == saisine.decided_at
    services.saisine_close(saisine=saisine, by=claire, outcome="Informations données")
    assert saisine.status == "closed"
    assert saisine.received_at <= saisine.first_response_at <= saisine.closed_at

    kinds = [(e.kind, e.from_status, e.to_status) for e in events(saisine)]
    assert kinds == [
        ("created", "", "received"),
        ("transition", "received", "triaged"),
        ("decision", "triaged", "in_progress"),
        ("transition", "in_progress", "closed"),
    ]
    updates = AuditEvent.objects.filter(action=Action.UPDATE, object_id=str(saisine.pk))
    assert [event.details["status"] for event in updates.order_by("id")] == [
        "triaged",
        "in_progress",
        "closed",
    ]


@pytest.mark.django_db
def test_start_moves_a_triaged_saisine_in_progress_without_a_decision(org_a, claire):
    saisine = SaisineFactory(organisation=org_a)
    with pytest.raises(TransitionRefused):
        services.saisine_start(saisine=saisine, by=claire)  # not triaged yet
    services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=0)
    services.saisine_start(saisine=saisine, by=claire)
    assert (saisine.status, saisine.decision, saisine.decided_at) == ("in_progress", "", None)


@pytest.mark.django_db
def test_a_later_decision_keeps_the_date_of_the_first(org_a, claire):
    saisine = SaisineFactory(organisation=org_a)
    services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=1)
    services.saisine_decide(saisine=saisine, by=claire, decision="orientation")
    first = saisine.decided_at
    services.saisine_decide(saisine=saisine, by=claire, decision="open_case", note="Complexe")
    assert (saisine.decision, saisine.decided_at) == ("open_case", first)
    assert len(events(saisine, kind="decision")) == 2


@pytest.mark.django_db
def test_declining_needs_a_reason_and_is_final(org_a, claire):
    saisine = SaisineFactory(organisation=org_a)
    with pytest.raises(ValidationError, match="motif"):
        services.saisine_decline(saisine=saisine, by=claire, reason="   ")
    assert reload(saisine).status == "received"

    services.saisine_decline(saisine=saisine, by=claire, reason="Hors territoire")
    assert (saisine.status, saisine.decline_reason, saisine.decision) == (
        "declined",
        "Hors territoire",
        "decline",
    )
    assert saisine.first_response_at <= saisine.decided_at <= saisine.closed_at
    for attempt in (
        lambda: services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=1),
        lambda: services.saisine_decide(saisine=saisine, by=claire, decision="information"),
        lambda: services.saisine_close(saisine=saisine, by=claire, outcome="Fini"),
        lambda: services.saisine_decline(saisine=saisine, by=claire, reason="Encore"),
    ):
        with pytest.raises(TransitionRefused, match="ne peut plus changer"):
            attempt()
    assert reload(saisine).decline_reason == "Hors territoire"


@pytest.mark.django_db
def test_closing_needs_an_outcome_and_a_saisine_in_progress(org_a, claire):
    saisine = SaisineFactory(organisation=org_a)
    with pytest.raises(TransitionRefused, match="« reçue »"):
        services.saisine_close(saisine=saisine, by=claire, outcome="Fini")
    services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=1)
    services.saisine_start(saisine=saisine, by=claire)
    with pytest.raises(ValidationError, match="issue"):
        services.saisine_close(saisine=saisine, by=claire, outcome="")
    services.saisine_close(saisine=saisine, by=claire, outcome="Orientée")
    assert reload(saisine).status == "closed"


@pytest.mark.django_db
def test_a_stale_copy_cannot_override_a_colleagues_transition(org_a, claire, hugo):
    saisine = SaisineFactory(organisation=org_a)
    services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=1)
    services.saisine_start(saisine=saisine, by=claire)
    hugos_copy = reload(saisine)

    services.saisine_close(saisine=saisine, by=claire, outcome="Résolue")
    with pytest.raises(TransitionRefused):
        services.saisine_decline(saisine=hugos_copy, by=hugo, reason="Doublon")

    # Both in progress, but Hugo read it before Claire's new decision: refused, reload.
    other = SaisineFactory(organisation=org_a)
    services.saisine_triage(saisine=other, by=claire, complexity={}, level=1)
    hugos_copy = reload(other)
    services.saisine_start(saisine=other, by=claire)
    with pytest.raises(TransitionRefused, match="rechargez"):
        services.saisine_decide(saisine=hugos_copy, by=hugo, decision="information")


@pytest.mark.django_db
def test_bad_arguments_are_refused_in_french(org_a, claire):
    saisine = SaisineFactory(organisation=org_a)
    with pytest.raises(ValidationError, match="niveau"):
        services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=99)
    with pytest.raises(ValidationError, match="repérage"):
        services.saisine_triage(saisine=saisine, by=claire, complexity=["x"], level=1)
    services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=1)
    for decision in ("", "decline", "teleport"):
        with pytest.raises(ValidationError, match="décision"):
            services.saisine_decide(saisine=saisine, by=claire, decision=decision)
    with pytest.raises(ValidationError):
        services.saisine_note(saisine=saisine, by=claire, text="nul\x00")
    assert reload(saisine).status == "triaged"


@pytest.mark.django_db
def test_the_first_response_is_recorded_once(org_a, claire):
    saisine = SaisineFactory(organisation=org_a)
    assert services.saisine_first_response(saisine=saisine, by=claire) is True
    first = reload(saisine).first_response_at
    assert services.saisine_first_response(saisine=saisine, by=claire) is False
    assert reload(saisine).first_response_at == first
    assert len(events(saisine, kind="message")) == 1


@pytest.mark.django_db
def test_a_note_goes_on_the_timeline_in_any_state(org_a, claire):
    saisine = SaisineFactory(organisation=org_a)
    services.saisine_decline(saisine=saisine, by=claire, reason="Doublon de S-2026-000002")
    note = services.saisine_note(saisine=saisine, by=claire, text="Appel du demandeur")
    assert note.kind == "note"
    assert [event.text for event in services.saisine_timeline(saisine)][-1] == "Appel du demandeur"
    with pytest.raises(ValidationError):
        services.saisine_note(saisine=saisine, by=claire, text="  ")


# --- Whatever the sequence of actions (hypothesis) ------------------------------------------

TEXTS = st.one_of(
    st.sampled_from(["", "   ", "Orientée vers le CCAS", "Doublon", "x" * 10_001]),
    st.text(max_size=30),
)
TRANSITIONS = ("triage", "decide", "start", "close", "decline")


class SaisineMachine(RuleBasedStateMachine):
    """Fire any sequence of services, valid or not; check the rules after each step."""

    organisation = None
    user = None

    def __init__(self):
        super().__init__()
        self.saisine = SaisineFactory(organisation=self.organisation)
        self.copies: list[Saisine] = []
        self.final: Saisine | None = None

    def _apply(self, action: str, call, target: Saisine | None = None) -> None:
        target = target or self.saisine
        before = len(events(self.saisine))
        try:
            result = call(target)
        except ValidationError:
            assert len(events(self.saisine)) == before, f"{action} refused but wrote an event"
            return
        wrote = len(events(self.saisine)) - before
        if action == "first_response" and result is False:
            assert wrote == 0
        else:
            assert wrote == 1, f"{action} wrote {wrote} events"
        if target is not self.saisine:  # a stale copy succeeded: it was current after all
            self.saisine = reload(self.saisine)

    @rule(level=st.integers(-2, 12), complexity=st.sampled_from([{}, {"health": 2}, ["bad"]]))
    def triage(self, level, complexity):
        self._apply(
            "triage",
            lambda s: services.saisine_triage(
                saisine=s, by=self.user, complexity=complexity, level=level
            ),
        )

    @rule(decision=st.sampled_from([*Decision.values, "", "nonsense"]), note=TEXTS)
    def decide(self, decision, note):
        self._apply(
            "decide",
            lambda s: services.saisine_decide(
                saisine=s, by=self.user, decision=decision, note=note
            ),
        )

    @rule()
    def start(self):
        self._apply("start", lambda s: services.saisine_start(saisine=s, by=self.user))

    @rule(outcome=TEXTS)
    def close(self, outcome):
        self._apply(
            "close", lambda s: services.saisine_close(saisine=s, by=self.user, outcome=outcome)
        )

    @rule(reason=TEXTS)
    def decline(self, reason):
        self._apply(
            "decline", lambda s: services.saisine_decline(saisine=s, by=self.user, reason=reason)
        )

    @rule(text=TEXTS)
    def note(self, text):
        self._apply("note", lambda s: services.saisine_note(saisine=s, by=self.user, text=text))

    @rule()
    def first_response(self):
        self._apply(
            "first_response", lambda s: services.saisine_first_response(saisine=s, by=self.user)
        )

    @rule()
    def keep_a_copy(self):
        """Another coordinator opens the page now (and may act on it later)."""
        self.copies.append(reload(self.saisine))

    @rule(data=st.data())
    def act_on_an_old_copy(self, data):
        if not self.copies:
            return
        copy = data.draw(st.sampled_from(self.copies))
        action = data.draw(st.sampled_from(["close", "decline", "start"]))
        call = {
            "close": lambda s: services.saisine_close(saisine=s, by=self.user, outcome="Fini"),
            "decline": lambda s: services.saisine_decline(saisine=s, by=self.user, reason="Non"),
            "start": lambda s: services.saisine_start(saisine=s, by=self.user),
        }[action]
        current_version = reload(self.saisine).version
        stale = copy.version != current_version
        before = len(events(self.saisine))
        self._apply(action, call, target=copy)
        if stale:
            assert len(events(self.saisine)) == before, "a stale copy changed the saisine"

    @invariant()
    def rules_hold(self):
        saisine = reload(self.saisine)
        assert saisine.status in Status.values
        if self.final is not None:
            for field in (
                "status",
                "outcome",
                "decline_reason",
                "decision",
                "decided_at",
                "closed_at",
                "first_response_at",
                "version",
            ):
                assert getattr(saisine, field) == getattr(self.final, field), field
        if saisine.status in (Status.CLOSED, Status.DECLINED):
            self.final = saisine
        moments = [
            saisine.received_at,
            saisine.first_response_at,
            saisine.decided_at,
            saisine.closed_at,
        ]
        reached = [moment for moment in moments if moment is not None]
        assert reached == sorted(reached), moments
        if saisine.status == Status.DECLINED:
            assert saisine.decline_reason.strip()
        if saisine.status == Status.CLOSED:
            assert saisine.outcome.strip()
            assert saisine.closed_at is not None
        if saisine.status in (Status.RECEIVED, Status.TRIAGED):
            assert saisine.closed_at is None and saisine.decided_at is None


@pytest.mark.django_db
def test_no_sequence_of_actions_reaches_an_invalid_state(org_a, claire):
    SaisineMachine.organisation = org_a
    SaisineMachine.user = claire
    run_state_machine_as_test(
        SaisineMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# --- Concurrency (PostgreSQL) ---------------------------------------------------------------

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent transactions need PostgreSQL (SQLite serialises every writer)",
)


def race(*targets) -> list:
    """Run the targets at the same time, each on its own connection; their outcomes."""
    start = threading.Barrier(len(targets))
    outcomes: list = [None] * len(targets)

    def racer(n):
        try:
            start.wait()
            outcomes[n] = targets[n]()
        except BaseException as error:  # noqa: BLE001 - returned to the test
            outcomes[n] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(len(targets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_coordinators_closing_and_declining_at_once_one_wins(org_a, claire, hugo):
    for _round in range(5):
        saisine = SaisineFactory(organisation=org_a)
        services.saisine_triage(saisine=saisine, by=claire, complexity={}, level=1)
        services.saisine_start(saisine=saisine, by=claire)
        claires, hugos = reload(saisine), reload(saisine)

        outcomes = race(
            lambda c=claires: services.saisine_close(saisine=c, by=claire, outcome="Résolue"),
            lambda h=hugos: services.saisine_decline(saisine=h, by=hugo, reason="Doublon"),
        )

        refused = [o for o in outcomes if isinstance(o, TransitionRefused)]
        won = [o for o in outcomes if isinstance(o, Saisine)]
        assert len(won) == 1 and len(refused) == 1, outcomes
        final = reload(saisine)
        assert final.status == won[0].status
        endings = [e for e in events(saisine) if e.to_status in ("closed", "declined")]
        assert len(endings) == 1


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_racing_submissions_of_one_form_make_one_saisine(org_a):
    outcomes = race(
        *[
            lambda: services.saisine_create(organisation=org_a, data=DATA, submission_key="k1")
            for _ in range(6)
        ]
    )
    assert all(isinstance(o, Saisine) for o in outcomes), outcomes
    assert len({o.pk for o in outcomes}) == 1
    with scopes_disabled():
        assert Saisine.objects.count() == 1


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_racing_creations_get_distinct_sequential_references(org_a):
    outcomes = race(
        *[
            lambda n=n: services.saisine_create(
                organisation=org_a, data=DATA, submission_key=f"k{n}"
            )
            for n in range(6)
        ]
    )
    assert all(isinstance(o, Saisine) for o in outcomes), outcomes
    year = timezone.localdate().year
    assert sorted(o.reference for o in outcomes) == [f"S-{year}-{n:06d}" for n in range(1, 7)]

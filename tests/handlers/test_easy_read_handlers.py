"""Easy read through the handlers: an assessment that says the patient needs it makes every
message scheduling and discharge send that patient easy read, and marked so; a team lead's or
a carer's message stays standard, and a patient who does not need it gets the standard words."""

from dataclasses import replace
from datetime import date, timedelta
from uuid import uuid4

from contracts import (
    AssessmentVersionRecorded,
    DischargeMeetingArranged,
    DischargeProposed,
    InformationCategory,
    NotificationSent,
)
from services.discharge import handlers as discharge
from services.scheduling import handlers as scheduling
from shared.privacy.consent import ConsentState, Recorded
from tests.fakes import FakeContext, FakePrivacy, FixedClock
from tests.handlers import test_discharge_handlers as discharge_fakes
from tests.handlers.test_scheduling_handlers import NOW, FakeStore, completed, context, open_episode, visit_due


def told(ctx: FakeContext) -> list[tuple[str, str, bool]]:
    return [(note.recipient, note.kind, note.easy_read) for note in ctx.events(NotificationSent)]


async def test_an_assessment_saying_easy_read_sends_the_care_plan_in_easy_read_and_keeps_it_for_the_episode() -> None:
    """The care plan is in easy read and marked so; the episode remembers it for the messages after."""
    store, assessment = FakeStore(), completed(easy_read=True)
    ctx = context(store)
    await scheduling.on_assessment_completed(ctx, assessment)
    [plan] = ctx.events(NotificationSent)
    assert (plan.kind, plan.easy_read) == ("care-plan", True)
    assert "These are your first visits." in plan.text.splitlines()
    assert store.episodes[assessment.episode_id].easy_read


async def test_a_standard_assessment_sends_the_standard_care_plan() -> None:
    """Without the need, the care plan is the standard one, not marked easy read."""
    ctx = context(FakeStore())
    await scheduling.on_assessment_completed(ctx, completed())
    [plan] = ctx.events(NotificationSent)
    assert (plan.kind, plan.easy_read) == ("care-plan", False) and plan.text.startswith("Your home treatment plan.\nWe will come to see you")


async def test_a_missed_visit_is_told_in_easy_read_to_the_patient_and_plainly_to_the_team_lead() -> None:
    """The patient of an easy-read episode hears of a missed visit in easy read; the team lead's alert is standard."""
    store = FakeStore()
    episode = open_episode(store)
    store.episodes[episode.episode_id] = replace(episode, easy_read=True)
    store.due = [visit_due(episode, NOW - timedelta(hours=2))]
    ctx = context(store)
    await scheduling.check_visits(ctx)
    assert told(ctx) == [("patient", "visit-missed", True), ("team-lead:htcr:belfast", "visit-missed", False)]


async def test_a_late_visit_of_an_easy_read_episode_is_told_in_easy_read() -> None:
    """The visit carries its episode's easy read to the late message."""
    store = FakeStore()
    late = replace(visit_due(open_episode(store), NOW - timedelta(minutes=20)), easy_read=True)
    store.due = [late]
    ctx = context(store)
    await scheduling.check_visits(ctx)
    [note] = ctx.events(NotificationSent)
    assert note.easy_read and note.text.splitlines()[0] == "We are late for your visit."


class RecordingStore(FakeStore):
    async def set_required_skills(self, episode_id, skills, easy_read=False) -> None:  # noqa: ANN001
        self.episodes[episode_id] = replace(self.episodes[episode_id], required_skills=skills, easy_read=easy_read)


async def test_a_later_assessment_version_switches_the_episode_to_easy_read() -> None:
    """A version recording a communication need after the plan makes the episode's later messages easy read."""
    store = RecordingStore()
    episode = open_episode(store)
    recorded = AssessmentVersionRecorded(patient_id=episode.patient_id, episode_id=episode.episode_id, assessment_version=2,
                                         changed_sections=("communication_needs",), recorded_at=NOW, easy_read=True)
    await scheduling.on_assessment_version_recorded(context(store), recorded)
    assert store.episodes[episode.episode_id].easy_read


async def test_a_planned_discharge_is_told_in_easy_read_to_a_patient_who_needs_it() -> None:
    """The patient of an easy-read episode hears of the planned discharge in easy read, the day said plainly."""
    store = discharge_fakes.FakeStore()
    episode = discharge_fakes.ready_episode(store, easy_read=True)
    proposal = DischargeProposed(patient_id=episode.patient_id, episode_id=episode.episode_id, proposed_by="s-7",
                                 planned_for=date(2026, 12, 10), reason="Crisis resolved.", proposed_at=NOW)
    ctx = FakeContext(store, discharge_fakes.DEPS)
    await discharge.on_discharge_proposed(ctx, proposal)
    [note] = ctx.events(NotificationSent)
    assert note.easy_read and "We plan to end it on Thursday 10 December." in note.text.splitlines()


async def test_the_discharge_meeting_invites_the_patient_in_easy_read_and_the_carer_in_the_standard_words() -> None:
    """The need is the patient's: their invitation is easy read, the consented carer's is standard."""
    store = discharge_fakes.FakeStore()
    episode = discharge_fakes.ready_episode(store, easy_read=True)
    store.carers_named[episode.episode_id] = ["c1"]
    consent = ConsentState((Recorded("carer:c1", frozenset({InformationCategory.DISCHARGE_ARRANGEMENTS}), True),))
    privacy = FakePrivacy(consent_of={episode.patient_id: consent})
    meeting = DischargeMeetingArranged(patient_id=episode.patient_id, episode_id=episode.episode_id,
                                       meeting_at=NOW + timedelta(days=2), arranged_by="s-7")
    ctx = FakeContext(store, discharge_fakes.DEPS, clock=FixedClock(NOW), privacy=privacy)
    await discharge.on_discharge_meeting_arranged(ctx, meeting)
    notes = {note.recipient: note for note in ctx.events(NotificationSent)}
    assert set(notes) == {"patient", "carer:c1"}
    assert notes["patient"].easy_read and notes["patient"].text.startswith("We would like to meet with you.")
    assert not notes["carer:c1"].easy_read and notes["carer:c1"].text.startswith("We will meet to plan the end of home treatment.")


async def test_the_discharge_letter_is_easy_read_for_a_patient_who_needs_it() -> None:
    """The letter at discharge is in easy read, and marked so."""
    store = discharge_fakes.FakeStore()
    episode = discharge_fakes.ready_episode(store, easy_read=True)
    ctx = FakeContext(store, discharge_fakes.DEPS, clock=FixedClock(NOW), privacy=FakePrivacy())
    await discharge.on_discharge_decided(ctx, discharge_fakes.decided(episode))
    [letter] = [note for note in ctx.events(NotificationSent) if note.recipient == "patient" and note.kind == "discharged"]
    assert letter.easy_read and letter.text.startswith("Your home treatment has ended.\n")


async def test_the_standard_patient_gets_the_standard_discharge_letter() -> None:
    """A patient who does not need easy read gets the standard letter, not marked."""
    store = discharge_fakes.FakeStore()
    episode = discharge_fakes.ready_episode(store)
    ctx = FakeContext(store, discharge_fakes.DEPS, clock=FixedClock(NOW), privacy=FakePrivacy())
    await discharge.on_discharge_decided(ctx, discharge_fakes.decided(episode))
    [letter] = [note for note in ctx.events(NotificationSent) if note.recipient == "patient" and note.kind == "discharged"]
    assert not letter.easy_read and letter.text.startswith("Your home treatment has now ended.")

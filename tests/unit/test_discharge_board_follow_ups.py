"""The board follows each discharge's own follow-up clock (carried on episode.closed), and reads
an episode closed before the clock was carried as 72 hours."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from contracts import EpisodeClosed, FollowUpCompleted, ReferralAccepted, ReferralSource, Trust, Urgency
from services.board.domain import FollowUps, fold_follow_ups, follow_ups_due
from services.board.fidelity import EpisodeRecord, fidelity, fold_episode

CLOSED = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)  # Tuesday of the week of Monday 1 June 2026
PATIENT = uuid4()


def closed(episode=None, due_in: float | None = None, patient=PATIENT) -> EpisodeClosed:
    return EpisodeClosed(patient_id=patient, episode_id=episode or uuid4(), visits_completed=5, closed_at=CLOSED,
                         due_at=CLOSED + timedelta(hours=due_in) if due_in is not None else None)


def test_a_48_hour_clock_is_overdue_on_the_board_after_48_hours_and_an_old_event_after_72() -> None:
    at = CLOSED + timedelta(hours=50)
    risky = fold_follow_ups(FollowUps(PATIENT), closed(due_in=48))
    old = fold_follow_ups(FollowUps(PATIENT), closed(due_in=None))
    [row] = follow_ups_due([risky], at)
    assert row.overdue and row.minutes_left == -120
    [row] = follow_ups_due([old], at)
    assert not row.overdue and row.minutes_left == 22 * 60


def test_the_boards_clocks_are_the_same_whatever_order_or_repetition_of_their_facts() -> None:
    episode = uuid4()
    facts = [closed(episode, due_in=48), closed(episode, due_in=48),
             FollowUpCompleted(patient_id=PATIENT, followup_id=uuid4(), contact_at=CLOSED + timedelta(hours=80), within_target=False)]
    one, other = FollowUps(PATIENT), FollowUps(PATIENT)
    for fact in facts:
        one = fold_follow_ups(one, fact)
    for fact in reversed(facts):
        other = fold_follow_ups(other, fact)
    assert one == other and one.due_by(CLOSED) == CLOSED + timedelta(hours=48)


def test_the_follow_up_figure_counts_each_discharge_against_its_own_clock() -> None:
    """Both patients were contacted 60 hours after discharge: in time on a 72-hour clock, late on a 48-hour one."""
    risky, plain = uuid4(), uuid4()
    patients = {risky: uuid4(), plain: uuid4()}
    records = []
    for episode, due_in in ((risky, 48), (plain, 72)):
        accepted = ReferralAccepted(referral_id=f"GP-{str(episode)[:8]}", patient_id=patients[episode], episode_id=episode,
                                    trust=Trust.BELFAST, source=ReferralSource.GP, urgency=Urgency.URGENT,
                                    accepted_at=CLOSED - timedelta(days=20), assess_by=CLOSED - timedelta(days=19))
        record = fold_episode(fold_episode(EpisodeRecord(episode), accepted), closed(episode, due_in, patients[episode]))
        records.append(record)
    contacts = {patient: [CLOSED + timedelta(hours=60)] for patient in patients.values()}
    result = fidelity(records, Trust.BELFAST, "htcr:belfast", date(2026, 6, 1), CLOSED + timedelta(days=10), follow_up_contacts=contacts)
    [figure] = [f for f in result.figures if f.key == "followed-up-within-72h"]
    assert figure.value == 0.5 and set(figure.short) == {risky}

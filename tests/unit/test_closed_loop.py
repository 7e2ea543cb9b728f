"""What the referrer is told, pure: who consent knows the referrer as, and the words of each change."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

from contracts import EpisodeClosed, ReferralSource, ReferrerStatus, Trust
from contracts.assessment import Pathway
from services.referral import closed_loop
from services.referral.closed_loop import Change, Progress, Referrer

BELFAST = ZoneInfo("Europe/Belfast")


def referrer(source: ReferralSource) -> Referrer:
    return Referrer("R-1", "/trust/western/some-system", source, Trust.WESTERN)


def test_a_gp_a_cmht_and_a_ward_are_referrers_consent_names_and_the_others_are_not() -> None:
    assert referrer(ReferralSource.GP).recipient == "gp"
    assert referrer(ReferralSource.CMHT).recipient == "cmht:western"
    assert referrer(ReferralSource.INPATIENT_WARD).recipient == "ward:western"
    for unnamed in (ReferralSource.EMERGENCY_DEPARTMENT, ReferralSource.PSYCHIATRIST, ReferralSource.KNOWN_PATIENT,
                    ReferralSource.CARER_OF_KNOWN_PATIENT, ReferralSource.VOLUNTARY_ORGANISATION):
        assert referrer(unnamed).recipient is None, unnamed


def test_the_discharge_message_gives_the_follow_up_deadline_in_local_time() -> None:
    summer = datetime(2026, 7, 3, 15, 0, tzinfo=UTC)  # 16:00 in Belfast
    closed = EpisodeClosed(patient_id=uuid4(), episode_id=uuid4(), visits_completed=5, closed_at=summer,
                           due_at=summer + timedelta(hours=48))
    _, change = closed_loop.discharged(Progress(), closed)
    assert change is not None
    assert closed_loop.message("GP-9", change, BELFAST) == (
        "Referral GP-9: home treatment ended on Friday 3 July. "
        "The team will contact your patient by Sunday 5 July at 16:00 to check how they are."
    )


def test_every_pathway_has_words_for_the_referrer() -> None:
    for pathway in Pathway:
        change = Change(ReferrerStatus.ASSESSED, datetime(2026, 12, 1, 10, tzinfo=UTC), outcome=pathway)
        text = closed_loop.message("GP-9", change, BELFAST)
        assert text.startswith("Referral GP-9: the home treatment team assessed your patient on Tuesday 1 December. ")
        assert text.endswith(closed_loop.NEXT_STEP[pathway])


def test_missed_visits_are_told_from_the_second_in_a_row_and_a_visit_starts_the_count_again() -> None:
    at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    progress, told = Progress(seen_at_home=True), []
    for step in ("missed", "missed", "missed", "visit", "missed", "missed"):
        if step == "missed":
            progress, change = closed_loop.visit_missed(progress, at)
        else:
            progress, change = closed_loop.visit_completed(progress, at)
        told.append(change.missed_in_a_row if change else None)
    assert told == [None, 2, 3, None, None, 2]

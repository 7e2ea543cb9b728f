"""Recipients: one spelling, built and read in one place, accepted by the events that carry them."""

import re

import pytest

from contracts import Purpose, Recipient, TeamKind, Trust
from contracts.consent import RECIPIENT_PATTERN


def test_each_kind_of_recipient_is_spelt_as_the_events_carry_it() -> None:
    assert Recipient.patient() == "patient" and Recipient.gp() == "gp"
    assert Recipient.carer("partner-1") == "carer:partner-1"
    assert Recipient.team(TeamKind.RECOVERY_TEAM, Trust.SOUTH_EASTERN) == "recovery-team:south-eastern"
    assert Recipient.team_lead("htcr:belfast") == "team-lead:htcr:belfast"
    for recipient in (Recipient.patient(), Recipient.gp(), Recipient.carer("c-1"), Recipient.team(TeamKind.WARD, Trust.WESTERN)):
        assert re.fullmatch(RECIPIENT_PATTERN.strip("^$"), recipient), f"{recipient} would be refused by a consent event"


def test_a_carer_is_told_apart_from_a_team_and_gets_carer_support() -> None:
    carer = Recipient("carer:partner-1")
    assert carer.is_carer and carer.carer_id == "partner-1" and not carer.is_caring_team
    assert carer.purpose is Purpose.CARER_SUPPORT
    team = Recipient.team(TeamKind.HTCR, Trust.BELFAST)
    assert team.is_caring_team and not team.is_carer and team.carer_id is None and team.purpose is Purpose.DIRECT_CARE


@pytest.mark.parametrize("spelt", ["team-lead:htcr:belfast", "voluntary:aware", "htcr:", "carers:x", "patient"])
def test_only_the_patients_teams_and_gp_are_caring_teams(spelt: str) -> None:
    assert not Recipient(spelt).is_caring_team

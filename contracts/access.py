"""Who may say what: the Kafka principals of a carepath deployment and what each may read and
write. `carepath access grant` turns this table into the broker's ACLs, one deployment prefix
at a time; nothing else is allowed (the broker denies whatever no ACL allows).

Kafka does not stamp a record with the principal that wrote it, so an event type is bound to
its senders through its topic: every type is accepted only on its own topic (the consumer
dead-letters it anywhere else), and only the principals below may write that topic.
"""

from dataclasses import dataclass
from enum import StrEnum

from contracts.topics import (
    ASSESSMENT_EVENTS,
    ASSESSMENT_INBOUND,
    ASSESSMENT_SHARED,
    AUDIT,
    CONSENT_INBOUND,
    DEAD_LETTER,
    DIRECTORY_EVENTS,
    DISCHARGE_EVENTS,
    DISCHARGE_INBOUND,
    FEEDBACK_INBOUND,
    NOTIFICATIONS,
    PAS_INBOUND,
    REFERRAL_EVENTS,
    REFERRAL_INBOUND,
    REFERRAL_STATUS,
    ROTA_INBOUND,
    SCHEDULING_EVENTS,
    SCHEDULING_INBOUND,
    TOPICS,
    VISIT_OUTCOMES,
    Topic,
)


class Kind(StrEnum):
    SERVICE = "carepath service"
    # A carepath service that writes an inbound topic for the Trust systems it authenticates
    # itself (over HTTPS), setting each event's `ce_source` from the caller's login.
    GATEWAY = "carepath gateway"
    TRUST_SYSTEM = "Trust system"
    OPERATOR = "operator"


@dataclass(frozen=True)
class Principal:
    """One kind of client and its rights. A Trust onboards a system as a principal of one of the
    Trust-system kinds (`carepath access add NAME --like KIND`): it gets that kind's rights."""

    name: str
    kind: Kind
    description: str
    writes: tuple[Topic, ...] = ()
    reads: tuple[Topic, ...] = ()
    # Consumer groups it may join and commit in, after the deployment prefix (`<prefix>-<group>`).
    groups: tuple[str, ...] = ()
    # May ask how far any of the deployment's groups has got (describe them, never commit).
    describes_groups: bool = False


# The broker's superuser: creates, reconfigures and deletes topics, resets groups, manages
# principals and ACLs. Nothing in carepath runs as it except `make infra` and `carepath access`
# and `carepath topics`; the broker itself has principals of its own.
ADMIN = "admin"

SERVICES = (
    Principal("referral", Kind.SERVICE, "The referral service.",
              writes=(REFERRAL_EVENTS, REFERRAL_STATUS, DIRECTORY_EVENTS, AUDIT, DEAD_LETTER),
              reads=(REFERRAL_INBOUND, ASSESSMENT_EVENTS, CONSENT_INBOUND, DISCHARGE_EVENTS, SCHEDULING_EVENTS),
              groups=("referral",)),
    Principal("assessment", Kind.SERVICE, "The assessment service.",
              writes=(ASSESSMENT_EVENTS, ASSESSMENT_SHARED, AUDIT, NOTIFICATIONS, DEAD_LETTER),
              reads=(ASSESSMENT_INBOUND, ASSESSMENT_SHARED, CONSENT_INBOUND, DISCHARGE_EVENTS, REFERRAL_EVENTS, SCHEDULING_EVENTS),
              groups=("assessment", "assessment-delivery")),
    Principal("scheduling", Kind.SERVICE, "The scheduling service.",
              writes=(SCHEDULING_EVENTS, NOTIFICATIONS, DEAD_LETTER),
              reads=(ASSESSMENT_EVENTS, DISCHARGE_EVENTS, ROTA_INBOUND, SCHEDULING_INBOUND, VISIT_OUTCOMES),
              groups=("scheduling",)),
    Principal("discharge", Kind.SERVICE, "The discharge service.",
              writes=(DISCHARGE_EVENTS, NOTIFICATIONS, AUDIT, DEAD_LETTER),
              reads=(ASSESSMENT_EVENTS, CONSENT_INBOUND, DISCHARGE_EVENTS, DISCHARGE_INBOUND, FEEDBACK_INBOUND, PAS_INBOUND,
                     SCHEDULING_EVENTS),
              groups=("discharge", "discharge-delivery")),
    Principal("board", Kind.SERVICE, "The team's board: a read model of carepath's events, and the audit of who looked.",
              writes=(AUDIT, DEAD_LETTER),
              reads=(REFERRAL_EVENTS, ASSESSMENT_EVENTS, ASSESSMENT_SHARED, SCHEDULING_EVENTS, DISCHARGE_EVENTS, CONSENT_INBOUND),
              groups=("board",)),
)

# Trust systems that speak FHIR rather than Kafka call the gateway (services/gateway); it writes
# what they send to the inbound topic as they would, and is the only carepath service that may.
GATEWAYS = (
    Principal("gateway", Kind.GATEWAY,
              "The FHIR gateway: writes the referrals Trust systems send it over FHIR R4 (POST /fhir/ServiceRequest), "
              "each with the ce_source of the calling system it authenticated.",
              writes=(REFERRAL_INBOUND,)),
)

TRUST_SYSTEMS = (
    Principal("gp-system", Kind.TRUST_SYSTEM, "A GP practice system: refers patients, and hears how their care goes.",
              writes=(REFERRAL_INBOUND,), reads=(REFERRAL_STATUS,), groups=("gp-system",)),
    Principal("ed-system", Kind.TRUST_SYSTEM, "An emergency department system: refers patients.", writes=(REFERRAL_INBOUND,)),
    Principal("htcr-clinical-system", Kind.TRUST_SYSTEM,
              "The clinical system of the HTCR team, CMHT and wards: refers (and hears how the care it referred to goes), "
              "assesses, requests visits, decides discharge.",
              writes=(REFERRAL_INBOUND, ASSESSMENT_INBOUND, SCHEDULING_INBOUND, DISCHARGE_INBOUND),
              reads=(REFERRAL_STATUS,), groups=("htcr-clinical-system",)),
    Principal("staff-app", Kind.TRUST_SYSTEM, "The staff mobile app: visits started and their outcomes.",
              writes=(SCHEDULING_INBOUND, VISIT_OUTCOMES)),
    Principal("pas", Kind.TRUST_SYSTEM, "The patient administration system: admissions and ward discharges.", writes=(PAS_INBOUND,)),
    Principal("rostering", Kind.TRUST_SYSTEM, "The rostering system: staff and their shifts.", writes=(ROTA_INBOUND,)),
    Principal("consent-capture", Kind.TRUST_SYSTEM,
              "Where clinicians record consent: decisions, withdrawals, break glass, erasures.", writes=(CONSENT_INBOUND,)),
    Principal("feedback-form", Kind.TRUST_SYSTEM,
              "The Trust's feedback form: patients' and carers' answers to carepath's feedback invitation.",
              writes=(FEEDBACK_INBOUND,)),
    Principal("messaging", Kind.TRUST_SYSTEM, "The Trust's messaging system: delivers carepath's notifications.",
              reads=(NOTIFICATIONS,), groups=("messaging",)),
)

# What operators read through Kafka (`carepath tail`, `carepath audit`) and how far every group
# has got: carepath's own topics, whose copies are sealed, and the audit trail; never what Trust
# systems send (names, H&C numbers, assessments), the messages to people, or the dead letters
# (raw input). It can neither write nor commit anything. Clinical content is read through the
# services' databases, audited (`carepath copies`, `carepath assessment diff`).
OPERATOR = Principal("operator", Kind.OPERATOR, "Operators' read-only view: carepath's own events and consumer progress.",
                     reads=tuple(topic for topic in TOPICS if not topic.inbound and topic not in (NOTIFICATIONS, DEAD_LETTER)),
                     describes_groups=True)

# Trust systems before the gateway: an inbound topic's first writer is a Trust system (the AsyncAPI examples).
PRINCIPALS: tuple[Principal, ...] = (*SERVICES, *TRUST_SYSTEMS, *GATEWAYS, OPERATOR)


def principal(name: str) -> Principal:
    for known in PRINCIPALS:
        if known.name == name:
            return known
    raise KeyError(f"no principal kind {name!r} (known: {', '.join(known.name for known in PRINCIPALS)})")


def writers(topic: Topic) -> list[str]:
    """The principals that may write a topic (and so send the event types it carries)."""
    return [known.name for known in PRINCIPALS if topic in known.writes]


def readable(name: str | None) -> tuple[Topic, ...]:
    """The topics a principal may read (every one for the admin, who is not in the table)."""
    return next((known.reads for known in PRINCIPALS if known.name == name), TOPICS)

"""The Kafka topics carepath uses, by logical name.

A deployment prefixes every name (`carepath.` by default), so a test run or a second
environment on the same cluster never reads another's events. Each topic is created
explicitly (auto-creation is off on the broker) with at least six partitions; events are
keyed by the pseudonymous patient id, so one patient's events stay in order.
"""

from dataclasses import dataclass

# One size limit, set by the project on every topic (`max.message.bytes`) and on the producer, so
# what a service may queue, what the broker accepts and what the producer sends all agree.
MAX_MESSAGE_BYTES = 1_048_576
# What a service queues at most: the limit less room for Kafka's batch framing.
MAX_EVENT_BYTES = MAX_MESSAGE_BYTES - 4_096
# A dead letter is the record as it arrived plus the dlq_ headers, so its topic takes a little more.
DEAD_LETTER_MAX_MESSAGE_BYTES = MAX_MESSAGE_BYTES + 65_536
PRODUCER_MAX_REQUEST_BYTES = DEAD_LETTER_MAX_MESSAGE_BYTES + 4_096


@dataclass(frozen=True)
class Topic:
    name: str
    description: str
    partitions: int = 6
    # Published by Trust systems rather than by carepath: an event type carepath does not know
    # is bad input there (dead-lettered), but on carepath's own topics it may simply be newer
    # than the reader (skipped, so producers can add event types without breaking consumers).
    inbound: bool = False
    # Topic-level settings given at creation (e.g. the audit trail is kept forever).
    config: tuple[tuple[str, str], ...] = ()

    def full_name(self, prefix: str) -> str:
        return f"{prefix}.{self.name}"

    @property
    def settings(self) -> dict[str, str]:
        """Every setting the project gives the topic: its own, and the size limit."""
        return {"max.message.bytes": str(MAX_MESSAGE_BYTES)} | dict(self.config)


REFERRAL_INBOUND = Topic("referral.inbound", "Referrals published by Trust systems (GP, ED, CMHT, wards).", inbound=True)
REFERRAL_EVENTS = Topic("referral.events", "What the referral service decided about each referral.")
REFERRAL_STATUS = Topic(
    "referral.status",
    "The closed loop: each change that matters in the care of a referred patient, told to the referring system as consent "
    "lets it see (read by referring systems).",
)
ASSESSMENT_INBOUND = Topic("assessment.inbound", "Assessments submitted by clinicians' systems.", inbound=True)
ASSESSMENT_EVENTS = Topic("assessment.events", "Assessments recorded and their outcome (the pathway).")
ASSESSMENT_SHARED = Topic(
    "assessment.shared",
    "The assessment as sent to each team caring for the patient, limited to what consent allows.",
)
SCHEDULING_EVENTS = Topic("scheduling.events", "Visits planned and completed by the scheduling service.")
ROTA_INBOUND = Topic("rota.inbound", "Staff and shifts from the Trust's rostering system (keyed by staff id).", inbound=True)
SCHEDULING_INBOUND = Topic("scheduling.inbound", "Visit requests and visit starts from staff systems.", inbound=True)
NOTIFICATIONS = Topic(
    "notifications",
    "Messages carepath sends to people (patients, carers, team leads, GPs): the Trust's messaging system delivers them.",
)
VISIT_OUTCOMES = Topic("visit.outcomes", "Visit outcomes published by the staff mobile app.", inbound=True)
DISCHARGE_INBOUND = Topic("discharge.inbound", "Discharge decisions published by clinicians' systems.", inbound=True)
DISCHARGE_EVENTS = Topic("discharge.events", "Episodes closed by the discharge service.")
FEEDBACK_INBOUND = Topic(
    "feedback.inbound",
    "Patients' and carers' answers to the feedback invitation, from the Trust's feedback form (their own words stay in the discharge service, sealed).",
    inbound=True,
)
# Kept forever: a service database rebuilt from the log must still learn of every deny and
# do-not-tell, however old (the broker's default keeps events for 7 days).
KEPT_FOREVER = (("retention.ms", "-1"), ("cleanup.policy", "delete"))
CONSENT_INBOUND = Topic(
    "consent.inbound", "Consent decisions recorded by clinicians' systems, keyed by patient: kept forever.", inbound=True,
    config=KEPT_FOREVER,
)
PAS_INBOUND = Topic("pas.inbound", "Admissions and ward discharges from the patient administration system.", inbound=True)
DIRECTORY_EVENTS = Topic("directory.events", "The service directory, one event per Trust, for Trust websites.")
AUDIT = Topic(
    "audit.events",
    "Every disclosure and every denial of patient information: append-only, kept forever.",
    config=KEPT_FOREVER,
)
DEAD_LETTER = Topic(
    "deadletter",
    "Messages a service could not decode, validate or process, with the reason and origin in headers.",
    config=(("max.message.bytes", str(DEAD_LETTER_MAX_MESSAGE_BYTES)),),
)

def kept_forever(topic: Topic) -> bool:
    return dict(topic.config).get("retention.ms") == "-1"


TOPICS: tuple[Topic, ...] = (
    REFERRAL_INBOUND,
    REFERRAL_EVENTS,
    REFERRAL_STATUS,
    ASSESSMENT_INBOUND,
    ASSESSMENT_EVENTS,
    ASSESSMENT_SHARED,
    SCHEDULING_EVENTS,
    ROTA_INBOUND,
    SCHEDULING_INBOUND,
    NOTIFICATIONS,
    VISIT_OUTCOMES,
    DISCHARGE_INBOUND,
    DISCHARGE_EVENTS,
    FEEDBACK_INBOUND,
    CONSENT_INBOUND,
    PAS_INBOUND,
    DIRECTORY_EVENTS,
    AUDIT,
    DEAD_LETTER,
)

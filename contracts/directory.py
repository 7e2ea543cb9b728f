"""The service directory: what each Trust offers people in or near a crisis, and how to reach it.

Used for signposting (a declined or redirected referral names concrete alternatives), and
published as an event per Trust for Trust websites. The data lives in shared/reference/data/directory.toml.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from contracts.base import Event, Timestamp, Trust, at_field
from contracts.topics import DIRECTORY_EVENTS

# Entries are a few lines each; the bounds keep a Trust's whole directory in one message.
ENTRY_ID = 64
NAME = 200
HOURS = 200
WORDS = 500  # eligibility and how to access, in sentences a patient can act on
PHONE = 32
WEBSITE = 300
MAX_ENTRIES = 50  # a Trust lists 13 today


class ServiceKind(StrEnum):
    HTCR = "htcr"
    CMHT = "cmht"
    WARD = "ward"
    RECOVERY_TEAM = "recovery-team"
    CRISIS_LINE = "crisis-line"
    VOLUNTARY_ORGANISATION = "voluntary-organisation"
    EMERGENCY_DEPARTMENT = "emergency-department"
    GP = "gp"
    CAMHS = "camhs"
    OLDER_PEOPLE = "older-people-mental-health"


class DirectoryEntry(BaseModel):
    """One service a person can be pointed to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{1,63}$", max_length=ENTRY_ID, description="Stable id of the entry.", examples=["belfast-htcr"]
    )
    trusts: tuple[Trust, ...] = Field(
        min_length=1, max_length=len(Trust), description="The Trusts whose residents it serves.", examples=[["belfast"]]
    )
    kind: ServiceKind = Field(description="What sort of service it is.", examples=["htcr"])
    name: str = Field(min_length=1, max_length=NAME, description="Its name.", examples=["Home Treatment Crisis Response Team"])
    open_24_7: bool = Field(description="Open every hour of every day.", examples=[True])
    hours: str = Field(min_length=1, max_length=HOURS, description="Opening hours in words.", examples=["24 hours a day, 7 days a week"])
    eligibility: str = Field(
        min_length=1, max_length=WORDS, description="Who it is for.", examples=["Adults 18 and over living in the Belfast Trust area"]
    )
    how_to_access: str = Field(
        min_length=1,
        max_length=WORDS,
        description="How to get to it, in words a patient can act on.",
        examples=["Through your GP or the emergency department"],
    )
    phone: str | None = Field(default=None, max_length=PHONE, description="Phone number, if it takes calls.", examples=["0808 808 8000"])
    website: str | None = Field(default=None, max_length=WEBSITE, description="Web address.", examples=["https://www.lifelinehelpline.info"])
    example: bool = Field(description="True while this entry is an illustration, not checked with the Trust.", examples=[True])


class Signpost(BaseModel):
    """A concrete alternative offered to someone carepath cannot take on."""

    model_config = ConfigDict(frozen=True)

    entry_id: str = Field(max_length=ENTRY_ID, description="Directory entry id.", examples=["northern-ireland-lifeline"])
    kind: ServiceKind = Field(description="What sort of service it is.", examples=["crisis-line"])
    name: str = Field(max_length=NAME, description="Its name.", examples=["Lifeline crisis response helpline"])
    hours: str = Field(max_length=HOURS, description="Opening hours.", examples=["24 hours a day, 7 days a week"])
    how_to_access: str = Field(max_length=WORDS, description="How to get to it.", examples=["Call free, any time"])
    phone: str | None = Field(default=None, max_length=PHONE, description="Phone number.", examples=["0808 808 8000"])

    @classmethod
    def of(cls, entry: DirectoryEntry) -> "Signpost":
        return cls(
            entry_id=entry.id,
            kind=entry.kind,
            name=entry.name,
            hours=entry.hours,
            how_to_access=entry.how_to_access,
            phone=entry.phone,
        )


class ServiceDirectoryPublished(Event):
    """The current service directory for one Trust, for Trust websites and signposting tools.
    Keyed by the Trust, not a patient: it is about services, not people."""

    type_name = "directory.published"
    topic = DIRECTORY_EVENTS

    trust: Trust = Field(description="The Trust this directory is for.", examples=["belfast"])
    entries: tuple[DirectoryEntry, ...] = Field(
        max_length=MAX_ENTRIES, description="Every service open to its residents.", examples=[[]]
    )
    published_at: Timestamp = at_field("this version of the directory was published")

    @property
    def key(self) -> str:
        return self.trust.value

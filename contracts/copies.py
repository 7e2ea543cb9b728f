"""A copy of a patient's information addressed to one recipient, and its sealed content.

The sensitive part of a copy (assessment sections, carer information, summary headings) travels
only as `Sealed`: AES-GCM ciphertext under a key kept for that patient and that recipient in the
database of the service that made the copy, never in Kafka. What anyone tailing the log sees
is who it is for, which categories it carries and under which consent version, not the content.
Withdrawing the recipient's consent destroys the key; the copies already on the log can no
longer be opened.
"""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from contracts.base import MAX_INTEGER, Event, Integer, Uuid, patient_id_field
from contracts.consent import RECIPIENT_MAX_LENGTH, RECIPIENT_PATTERN, InformationCategory, Purpose

# The largest sealed content (a whole assessment with every text and list at its bound, every
# character one JSON escapes as six bytes) is under 660 kB; with the 12-byte nonce and 16-byte
# tag, base64 makes that under 880,000 characters, and the copy around it stays under the Kafka
# message limit. tests/unit/test_contract_strictness.py checks both sums.
CIPHERTEXT_MAX_LENGTH = 880_000


_CIPHERTEXT_EXAMPLE = "xyfpejjDwZVrILpjoNZy9Y8CFugDcFptp7B8Xaoa6kcrmbYIexTSaptRO6k4CJ6qqK8jsFr0aS/awqZP"


class Sealed(BaseModel):
    """Content encrypted for one recipient; associated data binds it to patient, recipient and event type."""

    model_config = ConfigDict(frozen=True)

    key_id: Uuid = Field(description="The copy key, kept in the issuing service's database.", examples=["3f2e1d0c-9b8a-4766-8544-332211009988"])
    ciphertext: str = Field(
        min_length=40,  # the nonce and the 16-byte tag alone
        max_length=CIPHERTEXT_MAX_LENGTH,
        pattern=r"^[A-Za-z0-9+/]*={0,2}$",
        description="Base64 of the 12-byte nonce and the AES-GCM ciphertext.",
        examples=[_CIPHERTEXT_EXAMPLE],
    )


class AddressedCopy(Event):
    """What every copy addressed to a recipient carries in the clear, so that the receiving end
    can check it against consent without opening it: who, why, which categories, and the consent
    version the sender decided on. The content itself is `sealed` (a `content_type` inside)."""

    content_type: ClassVar[type[BaseModel]]

    recipient: str = Field(
        pattern=RECIPIENT_PATTERN, max_length=RECIPIENT_MAX_LENGTH, description="Who it is addressed to.", examples=["ward:belfast"]
    )
    patient_id: Uuid = patient_id_field()
    purpose: Purpose = Field(description="Why it is shared.", examples=["direct-care"])
    categories: tuple[InformationCategory, ...] = Field(
        min_length=1, max_length=len(InformationCategory), description="Categories of information inside.", examples=[["risk", "medication"]]
    )
    consent_version: Integer = Field(
        ge=0, le=MAX_INTEGER, description="Version of the patient's consent state the sender decided on.", examples=[2]
    )
    sealed: Sealed = Field(
        description="The content, encrypted for this recipient.",
        examples=[{"key_id": "3f2e1d0c-9b8a-4766-8544-332211009988", "ciphertext": _CIPHERTEXT_EXAMPLE}],
    )

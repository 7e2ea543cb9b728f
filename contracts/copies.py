"""A copy of a patient's information addressed to one recipient, and its sealed content.

The sensitive part of a copy (assessment sections, carer information, summary headings) travels
only as `Sealed`: AES-GCM ciphertext under a key kept for that patient and that recipient in the
database of the service that made the copy, never in Kafka. What anyone tailing the log sees
is who it is for, which categories it carries and under which consent version, not the content.
Withdrawing the recipient's consent destroys the key; the copies already on the log can no
longer be opened.
"""

from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.base import Event, patient_id_field
from contracts.consent import RECIPIENT_PATTERN, InformationCategory, Purpose


class Sealed(BaseModel):
    """Content encrypted for one recipient; associated data binds it to patient, recipient and event type."""

    model_config = ConfigDict(frozen=True)

    key_id: UUID = Field(description="The copy key, kept in the issuing service's database.", examples=["3f2e1d0c-9b8a-4766-8544-332211009988"])
    ciphertext: str = Field(
        min_length=40, max_length=2_000_000, description="Base64 of the 12-byte nonce and the AES-GCM ciphertext.", examples=["q83vEjRWeJA..."]
    )


class AddressedCopy(Event):
    """What every copy addressed to a recipient carries in the clear, so that the receiving end
    can check it against consent without opening it: who, why, which categories, and the consent
    version the sender decided on. The content itself is `sealed` (a `content_type` inside)."""

    content_type: ClassVar[type[BaseModel]]

    recipient: str = Field(pattern=RECIPIENT_PATTERN, description="Who it is addressed to.", examples=["ward:belfast"])
    patient_id: UUID = patient_id_field()
    purpose: Purpose = Field(description="Why it is shared.", examples=["direct-care"])
    categories: tuple[InformationCategory, ...] = Field(
        min_length=1, description="Categories of information inside.", examples=[["risk", "medication"]]
    )
    consent_version: int = Field(ge=0, description="Version of the patient's consent state the sender decided on.", examples=[2])
    sealed: Sealed = Field(description="The content, encrypted for this recipient.", examples=[{"key_id": "3f2e1d0c-9b8a-4766-8544-332211009988", "ciphertext": "q83vEjRWeJA..."}])

"""Dead letters an operator can act on, on the real broker and databases: found by their reason,
put back where they came from once the cause is fixed, handled once however often they are
redriven, and every redrive on the audit trail."""

import asyncio
from uuid import uuid4

from aiokafka import AIOKafkaProducer

from contracts import DeadLetterRedriven, ReferralSubmitted, Role, ShiftsRostered, StaffMemberRecorded, Urgency
from contracts.topics import TOPICS
from shared.runtime import db
from shared.runtime.context import HandlerContext
from shared.runtime.errors import InvalidEvent, NotYetKnown
from shared.runtime.kafka import create_topics
from shared.runtime.outbox import OutboxRelay, PendingEvent
from tests import logins
from tests.acceptance.deployment import Deployment, delete_topics
from tests.acceptance.loops import publish_referrals, referral_loop, running, until
from tests.acceptance.test_scheduling import shifts
from tools import deadletters
from tools.reports import Reader
from tools.trust import TrustSystem

ON_CALL = Reader("j.smith", "INC-4412: the rota sent the member of staff after their shifts", "jsmith")


async def test_shifts_dead_lettered_before_their_member_of_staff_are_handled_once_when_redriven_twice_and_both_redrives_are_audited(
    deployment: Deployment,
) -> None:
    staff_id = f"dl-{uuid4().hex[:6]}"
    async with TrustSystem(deployment.kafka, deployment.prefix, "/trust/belfast/rostering") as rostering:
        await rostering.publish(ShiftsRostered(staff_id=staff_id, shifts=shifts(3)))
        failed = await found(deployment, deadletters.Filter(reason="rejected: shifts for a member of staff*", topic="rota.inbound", key=staff_id))
        # The rostering system is fixed and sends the member of staff.
        await rostering.publish(StaffMemberRecorded(staff_id=staff_id, team="htcr:belfast", role=Role.NURSE))
    await deployment.settled()
    assert await stored_shifts(deployment, staff_id) == 0
    assert await waiting(deployment, failed) == 1, "the dead letter waits to be put right"

    first = await deadletters.redrive(deployment.kafka, deployment.prefix, [failed], ON_CALL, rate_per_s=50)
    await deployment.settled()
    assert await stored_shifts(deployment, staff_id) == 3
    assert await waiting(deployment, failed) == 0, "redriven and handled, it waits no more"
    second = await deadletters.redrive(deployment.kafka, deployment.prefix, [failed], ON_CALL, rate_per_s=50)
    await deployment.settled()

    assert await stored_shifts(deployment, staff_id) == 3
    claims = await deployment.query("scheduling", "SELECT redelivered FROM inbox WHERE event_id = $1", failed.headers["ce_id"])
    assert [row["redelivered"] for row in claims] == [1], "the second redrive was recognised as the same event"
    again = await deadletters.read(deployment.kafka, deployment.prefix, deadletters.Filter(topic="rota.inbound"))
    assert [letter.headers.get("ce_id") for letter in again].count(failed.headers["ce_id"]) == 1, "a redrive was dead-lettered"
    await deployment.log.wait_until(lambda: len(deployment.log.events(DeadLetterRedriven, lambda e: e.dead_letter == failed.id)) == 2)
    trail = deployment.log.events(DeadLetterRedriven, lambda e: e.dead_letter == failed.id)
    assert {entry.redrive_id for entry in trail} == {first[0].redrive_id, second[0].redrive_id}
    assert all(entry.operator == "j.smith" and entry.reason == ON_CALL.reason and entry.to_topic.endswith(".rota.inbound")
               and entry.event_type == ShiftsRostered.cloudevents_type() for entry in trail)


async def test_a_redrive_names_only_what_the_filters_keep_and_refuses_a_dead_letter_from_outside_the_deployment(
    deployment: Deployment,
) -> None:
    staff_id = f"dl-{uuid4().hex[:6]}"
    async with TrustSystem(deployment.kafka, deployment.prefix, "/trust/belfast/rostering") as rostering:
        await rostering.publish(ShiftsRostered(staff_id=staff_id, shifts=shifts(1)))
    failed = await found(deployment, deadletters.Filter(reason="rejected: shifts*", key=staff_id))
    kept = await deadletters.read(deployment.kafka, deployment.prefix, deadletters.Filter(ids=(failed.id,)))
    assert [letter.id for letter in kept] == [failed.id]
    assert await deadletters.read(deployment.kafka, deployment.prefix, deadletters.Filter(ids=(failed.id,), topic="referral.inbound")) == []
    forged = deadletters.DeadLetter(failed.partition, failed.offset, failed.key, failed.value,
                                    failed.headers | {"dlq_original_topic": "elsewhere.consent.inbound"})
    try:
        await deadletters.redrive(deployment.kafka, deployment.prefix, [forged], ON_CALL)
    except ValueError as error:
        assert "came from no topic of this deployment" in str(error)
    else:
        raise AssertionError("a dead letter naming a topic outside the deployment was redriven")


async def test_an_event_parked_then_dead_lettered_is_handled_when_redriven_and_once_when_redriven_again(scratch_database: str) -> None:
    prefix = f"test-redrive-{uuid4().hex[:8]}"
    await create_topics(logins.admin(), prefix)
    pool = await db.create_pool(scratch_database)
    handled: list[str] = []
    stage = {"now": "waiting"}

    async def on_referral(ctx: HandlerContext, submitted: ReferralSubmitted) -> None:
        if stage["now"] == "waiting":
            raise NotYetKnown("waits for the directory entry, in this test")
        if stage["now"] == "refused":
            raise InvalidEvent("the directory has no such team, in this test")
        handled.append(submitted.referral_id)

    producer = AIOKafkaProducer(**logins.admin().options(), enable_idempotence=True, acks="all")
    await producer.start()

    async def send(event: PendingEvent) -> asyncio.Future:  # the dead letters, as a service's relay sends them
        return await producer.send(f"{prefix}.{event.topic}", event.value, key=event.key,
                                   headers=[(name, text.encode()) for name, text in event.headers.items()])

    relay = asyncio.create_task(OutboxRelay(pool, send, poll_interval_s=0.1).run())
    try:
        await db.migrate(pool, [db.SHARED_MIGRATIONS])
        loop = referral_loop(prefix, pool, on_referral)
        async with running(loop):
            await publish_referrals(prefix, [(0, "GP-1")], urgency=Urgency.URGENT)
            await until_async(lambda: pool.fetchval("SELECT count(*) FROM parked"), 1, 30)
            stage["now"] = "refused"
            await loop.sweep_parked()  # tried again, as the service's sweep does every few seconds
            [failed] = await wait_for_letters(prefix, 1)
            assert failed.reason.startswith("rejected: the directory has no such team")
            assert await pool.fetchval("SELECT count(*) FROM dead_letters_waiting") == 1
            stage["now"] = "fixed"
            await deadletters.redrive(logins.admin(), prefix, [failed], ON_CALL)
            await until(lambda: handled == ["GP-1"], 30)
            await deadletters.redrive(logins.admin(), prefix, [failed], ON_CALL)
            await until_async(lambda: pool.fetchval("SELECT max(redelivered) FROM inbox"), 1, 30)
            await asyncio.sleep(0.5)
        assert handled == ["GP-1"]
        assert len(await deadletters.read(logins.admin(), prefix)) == 1
        assert await pool.fetchval("SELECT count(*) FROM dead_letters_waiting") == 0, "put right by its redrive"
    finally:
        relay.cancel()
        await asyncio.gather(relay, return_exceptions=True)
        await producer.stop()
        await pool.close()
        await delete_topics(logins.admin(), [topic.full_name(prefix) for topic in TOPICS])


async def found(deployment: Deployment, keep: deadletters.Filter, timeout_s: float = 30) -> deadletters.DeadLetter:
    async with asyncio.timeout(timeout_s):
        while not (letters := await deadletters.read(deployment.kafka, deployment.prefix, keep)):
            await asyncio.sleep(0.3)
    [letter] = letters
    return letter


async def wait_for_letters(prefix: str, count: int, timeout_s: float = 30) -> list[deadletters.DeadLetter]:
    async with asyncio.timeout(timeout_s):
        while len(letters := await deadletters.read(logins.admin(), prefix)) < count:
            await asyncio.sleep(0.3)
    return letters


async def until_async(read, expected: object, timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        while await read() != expected:
            await asyncio.sleep(0.1)


async def waiting(deployment: Deployment, letter: deadletters.DeadLetter) -> int:
    """The dead letter's row among those `carepath_dead_letter_oldest_waiting_age_seconds` measures."""
    rows = await deployment.query("scheduling", "SELECT count(*) AS n FROM dead_letters_waiting WHERE event_id = $1::uuid",
                                  letter.headers["ce_id"])
    return rows[0]["n"]


async def stored_shifts(deployment: Deployment, staff_id: str) -> int:
    rows = await deployment.query("scheduling", "SELECT count(*) AS n FROM shifts WHERE staff_id = $1", staff_id)
    return rows[0]["n"]

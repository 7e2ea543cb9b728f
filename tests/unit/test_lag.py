"""`carepath lag`: every consumer group of the deployment, named as its service names it, with its
lag per partition, and plainly what the login could not see."""

from contracts.access import PRINCIPALS
from tools.lag import PartitionLag, report, subscriptions


def test_every_group_of_the_deployment_is_asked_about_on_the_topics_it_reads() -> None:
    """The table's groups with the deployment's prefix; a service's groups read what its wiring subscribes to."""
    groups = subscriptions("test-1")
    assert set(groups) == {f"test-1-{group}" for known in PRINCIPALS for group in known.groups}
    assert groups["test-1-referral"] == ["test-1.assessment.events", "test-1.consent.inbound", "test-1.discharge.events",
                                         "test-1.referral.inbound", "test-1.scheduling.events"]
    assert groups["test-1-gp-system"] == ["test-1.referral.status"]
    assert groups["test-1-assessment-delivery"] == ["test-1.assessment.shared"]
    assert groups["test-1-messaging"] == ["test-1.notifications"]


def test_the_report_gives_each_groups_total_and_the_partitions_with_records() -> None:
    """Committed against the end, per partition; an empty partition never read is left out; a
    group that has committed nothing says so."""
    lags = [
        PartitionLag("p-referral", "p.referral.events", 0, 4, 4),
        PartitionLag("p-referral", "p.referral.events", 1, 2, 5),
        PartitionLag("p-referral", "p.referral.events", 2, None, 0),
        PartitionLag("p-messaging", "p.notifications", 0, None, 3),
    ]
    assert report(lags, [], prefix="p", principal="admin") == [
        "p-messaging: lag 3; nothing committed yet",
        "  notifications[0]  committed -  end 3  lag 3",
        "p-referral: lag 3",
        "  referral.events[0]  committed 4  end 4  lag 0",
        "  referral.events[1]  committed 2  end 5  lag 3",
    ]


def test_topics_the_login_may_not_read_are_named_not_passed_over() -> None:
    """The operator does not see progress on the inbound topics: the report says so, and how to see it."""
    lines = report([PartitionLag("p-referral", "p.referral.events", 0, 1, 1)], ["p.referral.inbound", "p.notifications"],
                   prefix="p", principal="operator")
    assert lines[-1] == ("not shown: the groups' progress on referral.inbound, notifications, which operator may not read "
                         "(`carepath --as admin lag` shows it)")

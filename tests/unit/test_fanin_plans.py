"""`prom.fanin_plans.Plans`: what the members of a group said their poll cycle at a moment will ask."""

from __future__ import annotations

from promsoc.prom.fanin_plans import Part, Plans


def test_a_member_that_says_its_cycle_begins_is_asking_at_that_moment_and_waited_for() -> None:
    plans = Plans()
    assert plans.asking(10.0) == set()
    assert plans.waits_for("a", (10.0, None))  # said nothing: waited for, as without plans
    plans.expect("a", 10.0, None)
    assert plans.asking(10.0) == {"a"} and plans.asking(20.0) == set()
    assert plans.waits_for("a", (10.0, None)) and plans.waits_for("a", (10.0, "spark"))  # its scan under way


def test_once_said_a_member_is_waited_for_only_by_the_kinds_it_named_until_it_has_asked_them() -> None:
    plans = Plans()
    plans.expect("a", 10.0, None)
    plans.expect("a", 10.0, {"x", "y"})
    assert plans.asking(10.0) == {"a"}
    assert not plans.waits_for("a", (10.0, None))  # its scan is over
    assert plans.waits_for("a", (10.0, "x")) and not plans.waits_for("a", (10.0, "z"))
    plans.done("a", 10.0, "x")
    assert not plans.waits_for("a", (10.0, "x")) and plans.waits_for("a", (10.0, "y"))
    plans.expect("a", 10.0, ())  # the cycle is over
    assert not plans.waits_for("a", (10.0, "y")) and plans.asking(10.0) == {"a"}


def test_a_new_cycle_at_a_moment_already_said_about_forgets_what_was_said() -> None:
    plans = Plans()
    for member in ("a", "b"):
        plans.expect(member, 10.0, None)
        plans.expect(member, 10.0, ())
    plans.expect("a", 10.0, None)  # a cursor held still: the moment asked anew
    assert plans.asking(10.0) == {"a"}
    assert plans.waits_for("b", (10.0, None))  # b has not said about this asking yet


def test_only_the_latest_moments_are_kept() -> None:
    plans = Plans(keep=2)
    for moment in (1.0, 2.0, 3.0):
        plans.expect("a", moment, None)
    assert plans.asking(1.0) == set() and plans.asking(2.0) == plans.asking(3.0) == {"a"}


AT = 1_800_000_000.0
JOIN = Part("scaled")
SPARK = ("sparkline", "ingress-sqli", 3600.0, None)


def test_a_part_waits_only_for_the_members_that_said_they_ask_it_or_have_not_said() -> None:
    plans = Plans()
    plans.parts("a", AT, [JOIN])
    plans.parts("b", AT, [])
    assert plans.waits_for("a", (AT, JOIN)) and not plans.waits_for("b", (AT, JOIN))
    assert plans.waits_for("c", (AT, JOIN))  # not said yet: waited for, as before
    plans.done("a", AT, JOIN)
    assert not plans.waits_for("a", (AT, JOIN))
    assert plans.waits_for("a", (AT + 30, JOIN))  # another cycle: not said yet
    plans.expect("b", AT, {SPARK})  # its scan is over: no more of its parts
    assert not plans.waits_for("b", (AT, JOIN))


def test_a_member_past_its_scan_but_in_its_part_is_not_waited_for_its_later_questions() -> None:
    plans = Plans()
    plans.parts("a", AT, [JOIN])
    assert plans.waits_for("a", (AT, None)) and plans.waits_for("a", (AT, SPARK))  # scanning
    plans.done("a", AT, None)  # its scan's own questions are over, the part still runs
    assert not plans.waits_for("a", (AT, None)) and not plans.waits_for("a", (AT, SPARK))
    assert plans.waits_for("a", (AT, JOIN))
    plans.done("a", AT, JOIN)  # the part is over too: waited for until it says what it asks
    assert plans.waits_for("a", (AT, SPARK)) and plans.waits_for("a", (AT, None))
    plans.expect("a", AT, {SPARK})  # it will ask that sparkline now
    assert plans.waits_for("a", (AT, SPARK)) and not plans.waits_for("a", (AT, None))
    plans.expect("a", AT, None)  # a new asking of the same moment (a cursor held still)
    assert plans.waits_for("a", (AT, None)) and plans.waits_for("a", (AT, SPARK)) and plans.waits_for("a", (AT, JOIN))
    plans.parts("b", AT, [JOIN])
    plans.done("b", AT, JOIN)  # its part over first: past its own questions, its whole scan is over
    plans.done("b", AT, None)
    assert plans.waits_for("b", (AT, SPARK))  # waited for until it says what it asks, as without parts

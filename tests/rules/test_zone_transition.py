from rules.config import ZoneEntranceSpec, ZoneExitSpec
from rules.zone_entrance import ZoneEntrance
from rules.zone_exit import ZoneExit
from tests.rules.conftest import FRAME, norm, run, scene, still, walk

SQUARE = [norm(200, 200), norm(600, 200), norm(600, 600), norm(200, 600)]


def entrance(**kw):
    spec = ZoneEntranceSpec(id="in", kind="zone_entrance", polygon=SQUARE, **kw)
    return ZoneEntrance(spec, "cam1", FRAME)


def exit_(**kw):
    return ZoneExit(ZoneExitSpec(id="out", kind="zone_exit", polygon=SQUARE, **kw), "cam1", FRAME)


def test_walk_through_gives_one_entrance_and_one_exit():
    frames = scene({1: walk((100, 400), (700, 400), 0, 6)}, 6)  # x=200 at t=1, x=600 at t=5
    ins, outs = run(entrance(min_persist_s=0.5), frames), run(exit_(min_persist_s=0.5), frames)
    # On the outline counts as outside: inside from t=1.1 (x=210), firm 0.5 s later.
    assert [(round(e.started_at, 3), round(e.t, 3)) for e in ins] == [(1.1, 1.6)]
    assert ins[0].evidence == {"direction": "in"} and ins[0].track_id == 1
    assert [(round(e.started_at, 3), round(e.t, 3)) for e in outs] == [(5.0, 5.5)]
    assert outs[0].evidence == {"direction": "out"}


def test_flicker_on_the_outline_never_counts():
    def flicker(t):  # alternates 5 px in / out of the left edge every frame
        return (195 if int(round(t * 10)) % 2 else 205, 400)

    frames = scene({1: flicker}, 10)
    assert run(entrance(min_persist_s=0.3), frames) == []
    assert run(exit_(min_persist_s=0.3), frames) == []


def test_brief_dip_in_does_not_count_and_does_not_flip():
    def dip(t):  # outside, 0.2 s inside, outside again
        return (250, 400) if 1.0 <= t < 1.2 else (150, 400)

    frames = scene({1: dip}, 4)
    assert run(entrance(min_persist_s=0.5), frames) == []
    assert run(exit_(min_persist_s=0.5), frames) == []


def test_born_inside_is_not_an_entrance_but_can_exit():
    frames = scene({1: walk((400, 400), (700, 400), 0, 3)}, 4)  # leaves at x=600, t=2
    assert run(entrance(min_persist_s=0.0), frames) == []
    assert [round(e.t, 3) for e in run(exit_(min_persist_s=0.0), frames)] == [2.0]


def test_cooldown_silences_but_still_flips():
    def in_out_in(t):
        return (300, 400) if (1 <= t < 3 or t >= 5) else (100, 400)

    rule = entrance(min_persist_s=0.0, cooldown_s=10.0)
    assert [round(e.t, 3) for e in run(rule, scene({1: in_out_in}, 8))] == [1.0]
    rule = entrance(min_persist_s=0.0, cooldown_s=1.0)
    assert [round(e.t, 3) for e in run(rule, scene({1: in_out_in}, 8))] == [1.0, 5.0]


def test_unseen_inside_is_no_exit():
    rule = exit_(min_persist_s=0.0)
    assert run(rule, scene({1: still((400, 400), 0, 2)}, 5)) == []

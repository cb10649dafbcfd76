"""Bad arguments raise Python exceptions carrying the C++ message; nothing aborts the interpreter."""

import pytest

import edgeos


def small_set(cpus=1):
    return edgeos.TaskSet([edgeos.Task("a", wcet="1ms", period="4ms", cpu=0),
                           edgeos.Task("b", wcet="2ms", period="8ms", cpu=cpus - 1)], cpus=cpus)


def test_unknown_policy_name():
    with pytest.raises(edgeos.InputError, match="policy: unknown policy 'lottery' \\(expected 'fp' or 'edf'\\)"):
        edgeos.simulate(small_set(), policy="lottery", duration="10ms")


def test_unknown_policy_name_on_a_scenario(examples):
    with pytest.raises(edgeos.InputError, match="unknown policy 'rr'"):
        edgeos.simulate(examples / "kv-tenants.toml", policy="rr", duration="10ms")


def test_input_error_is_a_value_error():
    assert issubclass(edgeos.InputError, ValueError)


@pytest.mark.parametrize("duration", [0, -5, "-3ms"])
def test_non_positive_duration(duration):
    with pytest.raises(edgeos.InputError, match="duration"):
        edgeos.simulate(small_set(), duration=duration)


def test_negative_times_in_a_task_name_the_task_and_field():
    with pytest.raises(edgeos.InputError, match='task "a".*wcet'):
        edgeos.TaskSet([edgeos.Task("a", wcet=-1, period="4ms")])
    with pytest.raises(edgeos.InputError, match='period'):
        edgeos.TaskSet([edgeos.Task("a", wcet="1ms", period="-4ms")])


def test_bad_duration_text():
    with pytest.raises(edgeos.InputError, match="wcet"):
        edgeos.Task("a", wcet="fast", period="4ms")


@pytest.mark.parametrize("bad", [1.5, None, [1]])
def test_wrong_types(bad):
    with pytest.raises(TypeError):
        edgeos.Task("a", wcet=bad, period="4ms")


def test_wrong_argument_types_to_simulate():
    with pytest.raises(TypeError):
        edgeos.simulate(42, duration="1ms")
    with pytest.raises(TypeError):
        edgeos.simulate(small_set(), policy=3.5, duration="1ms")
    with pytest.raises(TypeError):
        edgeos.simulate(small_set(), policy=int, duration="1ms")


def test_task_on_a_missing_cpu():
    with pytest.raises(edgeos.InputError, match="cpu"):
        edgeos.TaskSet([edgeos.Task("a", wcet="1ms", period="4ms", cpu=3)], cpus=2)


def test_missing_scenario_file(tmp_path):
    with pytest.raises(edgeos.InputError, match="nope.toml"):
        edgeos.load_scenario(tmp_path / "nope.toml")


def test_malformed_scenario_names_line_and_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nduration = "1s"\n[[server]]\nname = "s"\ncpus = 1\npolicy = "edf"\nspeeed = 3\n')
    with pytest.raises(edgeos.InputError, match=r"bad.toml:\d+"):
        edgeos.load_scenario(bad)


def test_backend_arguments(examples):
    with pytest.raises(ValueError, match="unknown backend"):
        edgeos.simulate(examples / "kv-tenants.toml", backend="ns3")
    with pytest.raises(ValueError, match="policy must be None"):
        edgeos.simulate(examples / "kv-tenants.toml", backend="simgrid", policy="edf")
    with pytest.raises(TypeError, match="not task sets"):
        edgeos.simulate(small_set(), backend="simgrid", duration="10ms")
    with pytest.raises(edgeos.InputError, match="duration"):
        edgeos.simulate(examples / "kv-tenants.toml", backend="simgrid", duration=-5)


def test_one_instance_cannot_serve_two_cpus():
    with pytest.raises(ValueError, match="one policy object"):
        edgeos.simulate(small_set(2), policy=edgeos.EDF(), duration="10ms")
    shared = edgeos.EDF()
    with pytest.raises(ValueError, match="already schedules a CPU"):
        edgeos.simulate(small_set(2), policy=lambda cpu: shared, duration="10ms")
    # ... and the object is usable again afterwards.
    edgeos.simulate(small_set(1), policy=shared, duration="10ms")


def test_factory_returning_something_else():
    with pytest.raises(TypeError, match="not an edgeos.Scheduler"):
        edgeos.simulate(small_set(), policy=lambda cpu: "edf", duration="10ms")


class Boom(edgeos.KeyScheduler):
    def key(self, thread):
        raise ZeroDivisionError("policy bug")


class BadKey(edgeos.KeyScheduler):
    def key(self, thread):
        return 1.5


class WrongPick(edgeos.Scheduler):
    def enqueue(self, thread, head):
        self.last = thread

    def dequeue(self, thread):
        pass

    def pick(self):
        return None

    def preempts(self, candidate, running):
        return False


class Incomplete(edgeos.Scheduler):
    pass


def test_exception_in_a_policy_propagates():
    with pytest.raises(ZeroDivisionError, match="policy bug"):
        edgeos.simulate(small_set(), policy=Boom, duration="10ms")


def test_bad_key_type():
    with pytest.raises(TypeError, match="key\\(\\) must return an int or a tuple"):
        edgeos.simulate(small_set(), policy=BadKey, duration="10ms")


def test_pick_returning_none_with_threads_ready():
    with pytest.raises(RuntimeError, match=r"pick\(\) returned None with \d+ thread"):
        edgeos.simulate(small_set(), policy=WrongPick, duration="10ms")


def test_missing_method_is_reported():
    with pytest.raises(RuntimeError, match="enqueue"):
        edgeos.simulate(small_set(), policy=Incomplete, duration="10ms")


def test_sweep_arguments():
    with pytest.raises(edgeos.InputError, match="unknown test 'magic'"):
        edgeos.sweep(tests=["magic"], sets=1, progress=False)
    with pytest.raises(edgeos.InputError, match="0 < from <= to <= 1"):
        edgeos.sweep(u_from=0.9, u_to=0.5, sets=1, progress=False)


class Hoarder(edgeos.EDF):
    """Keeps the thread views it is given, which the documentation says not to do."""

    kept = []

    def key(self, thread):
        Hoarder.kept.append(thread)
        return super().key(thread)


def test_a_thread_view_kept_past_its_run_raises_instead_of_reading_freed_memory():
    Hoarder.kept.clear()
    edgeos.simulate(small_set(), policy=Hoarder, duration="10ms")
    assert Hoarder.kept
    view = Hoarder.kept[0]
    with pytest.raises(RuntimeError, match="outlived the policy call's run"):
        view.deadline
    assert "run ended" in repr(view)


def test_calling_an_abstract_method_says_which():
    class NoKey(edgeos.KeyScheduler):
        pass

    with pytest.raises((TypeError, RuntimeError), match="key"):
        edgeos.simulate(small_set(), policy=NoKey, duration="10ms")


def test_a_key_nested_tens_of_thousands_deep_raises_instead_of_overflowing_the_stack(tmp_path):
    scenario = tmp_path / "deep.toml"
    scenario.write_text("[" + ".".join(["a"] * 40000) + "]\n")
    with pytest.raises(edgeos.InputError, match="deep.toml:1:1: key nested 40000 levels deep"):
        edgeos.simulate(scenario)


def test_a_duration_beyond_64_bits_says_so():
    ts = edgeos.TaskSet([edgeos.Task("a", "1ms", "10ms")])
    with pytest.raises(ValueError, match="beyond what a duration holds"):
        edgeos.simulate(ts, duration=2**70)
    with pytest.raises(ValueError, match="beyond what a duration holds"):
        edgeos.Task("a", -2**64, "10ms")


class PickReturnsAnInt(WrongPick):
    def pick(self):
        return 3 if getattr(self, "last", None) is not None else None


def test_pick_returning_an_int_says_what_pick_must_return():
    with pytest.raises(TypeError, match="pick\\(\\) must return one of the threads"):
        edgeos.simulate(small_set(), policy=PickReturnsAnInt, duration="10ms")

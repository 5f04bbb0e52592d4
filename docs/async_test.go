package docs_test

// testing.md, "Asynchronous probe under the explorer": the generators of
// the page's two trace excerpts, taken from package lifecycle's scenarios
// as the registry (package scenarios) lists them (bus/async_sim_test.go
// explores them too), their replay commands, and the test those commands
// run.

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/drvsim/drvsim/scenarios"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// asyncExcerpt describes one excerpt of the page: the registered
// scenario, the first schedule of the exhaustive search (at most 2
// preemptions) whose trace matches, and the test its replay command runs.
type asyncExcerpt struct {
	scenario string
	match    func(events []trace.Event) bool
	test     string // the -run pattern of the replay command
}

var asyncExcerpts = map[string]asyncExcerpt{
	// rmmod blocks in async_synchronize_full while the probe binds the
	// device, then driver_detach unbinds it.
	"driver_unregister": {
		scenario: "async-probe-vs-rmmod",
		match: func(ev []trace.Event) bool {
			wait := eventIndex(ev, 0, "async_synchronize_full", "waiting for asynchronous probes")
			return wait >= 0 && eventIndex(ev, wait, "driver_bound", "") >= 0
		},
		test: "^TestAsyncProbeSchedules$/^driver_unregister$",
	},
	// device_del wins the device lock; the helper skips the dead device.
	"device_del": {
		scenario: "async-probe-vs-unplug",
		match: func(ev []trace.Event) bool {
			return eventIndex(ev, 0, "__device_attach_async_helper", "device removed before the asynchronous probe ran") >= 0
		},
		test: "^TestAsyncProbeSchedules$/^device_del$",
	},
}

// eventIndex returns the index of the first event at or after from whose
// function is fn and whose message contains msg, or -1.
func eventIndex(ev []trace.Event, from int, fn, msg string) int {
	for i := from; i < len(ev); i++ {
		if ev[i].Func == fn && strings.Contains(ev[i].Msg, msg) {
			return i
		}
	}
	return -1
}

// errFound marks the wanted run: a check that fails it makes Explore stop
// there and return the run, with its schedule.
const errFound = "docs: the excerpt's schedule"

// setup returns a Setup of the excerpt's registered scenario, for one
// exploration; Close it after.
func (x asyncExcerpt) setup() (sim.Setup, error) {
	sc, ok := scenarios.Lookup(x.scenario)
	if !ok {
		return sim.Setup{}, fmt.Errorf("no scenario %q", x.scenario)
	}
	return sc.New(), nil
}

// find explores the excerpt's scenario exhaustively and returns the first
// run that matches, replayed on its own: its schedule and trace.
func (x asyncExcerpt) find() (*sim.Result, error) {
	setup, err := x.setup()
	if err != nil {
		return nil, err
	}
	defer setup.Close()
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 2000}, func(s *sim.Sim) {
		setup.Run(s)
		s.AddLeakCheck("find", func() []string {
			if x.match(s.Log().Events()) {
				return []string{errFound}
			}
			return nil
		})
	})
	if !res.Failed() || !strings.Contains(res.Failure.String(), errFound) {
		return nil, fmt.Errorf("no schedule matches: %s", res)
	}
	// The same schedule on the scenario alone passes and gives the trace
	// the page quotes.
	run := sim.Run(sim.Config{Replay: res.Failure.Schedule()}, setup.Run)
	if run.Failed() {
		return nil, fmt.Errorf("replaying %s: %s", sim.FormatSchedule(res.Failure.Schedule()), run)
	}
	return run, nil
}

// traced is the scenario function of setup, keeping in *out, at the end
// of every passing run, the run's trace from its first schedule point.
func traced(setup sim.Setup, out *string) func(*sim.Sim) {
	return func(s *sim.Sim) {
		setup.Run(s)
		s.AddLeakCheck("trace", func() []string {
			*out = fromFirstSchedulePoint(s.Log().Events())
			return nil
		})
	}
}

// fromFirstSchedulePoint renders the events from the first context switch
// ("schedule: start -> ...") on: what happens once the tasks run.
func fromFirstSchedulePoint(ev []trace.Event) string {
	for i, e := range ev {
		if e.Kind == trace.Sched && strings.HasPrefix(e.Msg, "start -> ") {
			return trace.Text(ev[i:])
		}
	}
	return trace.Text(ev)
}

// asyncTrace is the generator of an excerpt's trace block.
func asyncTrace(name string) generator {
	return func() (string, error) {
		run, err := asyncExcerpts[name].find()
		if err != nil {
			return "", err
		}
		return fromFirstSchedulePoint(run.Events), nil
	}
}

// asyncReplay is the generator of an excerpt's replay command.
func asyncReplay(name string) generator {
	return func() (string, error) {
		x := asyncExcerpts[name]
		run, err := x.find()
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("DRVSIM_SCHEDULE=%s go test -v -run '%s' ./docs\n", sim.FormatSchedule(run.Schedule()), x.test), nil
	}
}

// TestAsyncProbeSchedules explores both scenarios exhaustively (at most 2
// preemptions): no schedule fails. With DRVSIM_SCHEDULE (the page's
// replay commands) it runs that one schedule and logs its trace from the
// first schedule point, as the page shows it.
func TestAsyncProbeSchedules(t *testing.T) {
	for _, name := range []string{"driver_unregister", "device_del"} {
		t.Run(name, func(t *testing.T) {
			setup, err := asyncExcerpts[name].setup()
			if err != nil {
				t.Fatal(err)
			}
			defer setup.Close()
			var last string
			cfg := sim.EnvConfig(t.Name(), 0) // DRVSIM_SCHEDULE: run that one schedule
			res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 2000, Config: cfg},
				traced(setup, &last))
			if res.Failed() {
				t.Fatal(res)
			}
			if cfg.Replay != nil {
				t.Logf("schedule %s:\n%s", sim.FormatSchedule(cfg.Replay), last)
				return
			}
			endings := setup.Endings()
			if !res.Exhausted || res.Schedules < 2 || len(endings) != 2 {
				t.Errorf("want an exhausted search of several schedules with both endings: %s; %v", res, endings)
			}
			t.Logf("%s endings: %v", strings.TrimSpace(res.String()), endings)
		})
	}
}

// TestAsyncExcerptReplays runs the page's replay commands' schedules the
// way the commands do (DRVSIM_SCHEDULE read by sim.EnvConfig) and checks
// that they give the page's traces.
func TestAsyncExcerptReplays(t *testing.T) {
	// A DRVSIM_SCHEDULE meant for another test (a replay command run on
	// the whole package) must not steer the search for the page's runs:
	// clear it for this test; t.Setenv restores it afterwards.
	t.Setenv(sim.EnvSchedule, "")
	os.Unsetenv(sim.EnvSchedule)
	for _, name := range []string{"driver_unregister", "device_del"} {
		x := asyncExcerpts[name]
		run, err := x.find()
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv(sim.EnvSchedule, sim.FormatSchedule(run.Schedule()))
		setup, err := x.setup()
		if err != nil {
			t.Fatal(err)
		}
		var got string
		res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 2, Config: sim.EnvConfig(name, 0)},
			traced(setup, &got))
		setup.Close()
		if res.Failed() || res.Schedules != 1 {
			t.Fatalf("%s: %s", name, res)
		}
		if want := fromFirstSchedulePoint(run.Events); got != want {
			t.Errorf("%s: the replayed trace differs:\n%s", name, lineDiff(strings.Split(want, "\n"), strings.Split(got, "\n")))
		}
	}
}

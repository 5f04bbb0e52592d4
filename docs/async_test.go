package docs_test

// testing.md, "Asynchronous probe under the explorer": the scenarios of
// bus/async_sim_test.go rebuilt with the public API only, the generators
// of the page's two trace excerpts and their replay commands, and the test
// those commands run.

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// asyncRig builds one System per run of an exploration and closes them all
// at the end (Close stops a System's async worker goroutine).
type asyncRig struct {
	mu      sync.Mutex
	systems []*drvsim.System
}

// system is drvsim.NewSystem on the Sim: the System records into the
// Sim's trace, and with the Sim as its scheduler every asynchronous probe
// runs as a task named async_probe.
func (r *asyncRig) system(s *sim.Sim) *drvsim.System {
	sys := &drvsim.System{Core: bus.NewCore(s.Log()), Platform: platform.NewBus()}
	sys.SetScheduler(s) // before any asynchronous probe is queued
	if err := sys.RegisterBus(sys.Platform); err != nil {
		panic(err)
	}
	r.mu.Lock()
	r.systems = append(r.systems, sys)
	r.mu.Unlock()
	return sys
}

func (r *asyncRig) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, sys := range r.systems {
		sys.Close()
	}
	r.systems = nil
}

// wifi is an asynchronous platform driver whose probe takes one devm
// action; it counts probes, removes and releases so that a run can check
// that every probe was undone.
type wifi struct {
	probes, removes, released int
}

func (w *wifi) driver() *driver.Driver {
	drv := platform.NewDriver("wifi", func(dev *device.Device) error {
		w.probes++
		_, err := dev.Devres().AddOrReset("wifi_power_off", func() { w.released++ })
		return err
	}, func(*device.Device) { w.removes++ })
	drv.ProbeType = driver.ProbePreferAsynchronous // PROBE_PREFER_ASYNCHRONOUS
	return drv
}

// unbalanced describes what is wrong with the driver's bookkeeping.
func (w *wifi) unbalanced() []string {
	if w.probes != w.removes || w.probes != w.released {
		return []string{fmt.Sprintf("wifi: %d probes, %d removes, %d devres releases", w.probes, w.removes, w.released)}
	}
	return nil
}

// asyncVsUnregister: the driver is registered and the device added during
// setup, so device_add queues an asynchronous probe (an async_probe task
// running __device_attach_async_helper); the rmmod task unregisters the
// driver. Every run must end with the device unbound and the driver's
// probe undone. done, if set, sees the Sim at the end of a passing run.
func asyncVsUnregister(rig *asyncRig, done func(*sim.Sim)) func(*sim.Sim) {
	return func(s *sim.Sim) {
		sys := rig.system(s)
		w := &wifi{}
		drv := w.driver()
		if err := sys.RegisterDriver(drv); err != nil {
			panic(err)
		}
		dev := sys.NewPlatformDevice("wifi")
		if err := sys.RegisterDevice(dev); err != nil { // queues async_probe
			panic(err)
		}
		s.Go("rmmod", func() {
			if err := sys.UnregisterDriver(drv); err != nil {
				panic(err)
			}
		})
		s.AddLeakCheck("wifi after rmmod", func() []string { // checked when the run ends
			bad := w.unbalanced()
			if dev.Driver() != nil {
				bad = append(bad, "device still bound to "+dev.DriverName()+" after driver_unregister")
			}
			if len(bad) == 0 && done != nil {
				done(s)
			}
			return bad
		})
	}
}

// asyncVsRemoval: as asyncVsUnregister, but the unplug task unregisters
// the device. Every run must end with the device unbound, removed and
// released.
func asyncVsRemoval(rig *asyncRig, done func(*sim.Sim)) func(*sim.Sim) {
	return func(s *sim.Sim) {
		sys := rig.system(s)
		w := &wifi{}
		if err := sys.RegisterDriver(w.driver()); err != nil {
			panic(err)
		}
		dev := sys.NewPlatformDevice("wifi")
		if err := sys.RegisterDevice(dev); err != nil { // queues async_probe
			panic(err)
		}
		s.Go("unplug", func() {
			if err := sys.UnregisterDevice(dev); err != nil {
				panic(err)
			}
		})
		s.AddLeakCheck("wifi after unplug", func() []string {
			bad := w.unbalanced()
			if dev.Driver() != nil || dev.State() != device.StateRemoved || !dev.Released() {
				bad = append(bad, fmt.Sprintf("device: driver=%q state=%s released=%v", dev.DriverName(), dev.State(), dev.Released()))
			}
			if len(bad) == 0 && done != nil {
				done(s)
			}
			return bad
		})
	}
}

// asyncExcerpt describes one excerpt of the page: the scenario, the first
// schedule of the exhaustive search (at most 2 preemptions) whose trace
// matches, and the test its replay command runs.
type asyncExcerpt struct {
	scenario func(*asyncRig, func(*sim.Sim)) func(*sim.Sim)
	match    func(events []trace.Event) bool
	test     string // the -run pattern of the replay command
}

var asyncExcerpts = map[string]asyncExcerpt{
	// rmmod blocks in async_synchronize_full while the probe binds the
	// device, then driver_detach unbinds it.
	"driver_unregister": {
		scenario: asyncVsUnregister,
		match: func(ev []trace.Event) bool {
			wait := eventIndex(ev, 0, "async_synchronize_full", "waiting for asynchronous probes")
			return wait >= 0 && eventIndex(ev, wait, "driver_bound", "") >= 0
		},
		test: "^TestAsyncProbeSchedules$/^driver_unregister$",
	},
	// device_del wins the device lock; the helper skips the dead device.
	"device_del": {
		scenario: asyncVsRemoval,
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

// find explores the excerpt's scenario exhaustively and returns the first
// run that matches, replayed on its own: its schedule and trace.
func (x asyncExcerpt) find() (*sim.Result, error) {
	rig := &asyncRig{}
	defer rig.close()
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 2000}, func(s *sim.Sim) {
		x.scenario(rig, nil)(s)
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
	run := sim.Run(sim.Config{Replay: res.Failure.Schedule()}, x.scenario(rig, nil))
	if run.Failed() {
		return nil, fmt.Errorf("replaying %s: %s", sim.FormatSchedule(res.Failure.Schedule()), run)
	}
	return run, nil
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
			x := asyncExcerpts[name]
			rig := &asyncRig{}
			defer rig.close()
			var last string
			cfg := sim.EnvConfig(t.Name(), 0) // DRVSIM_SCHEDULE: run that one schedule
			res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 2000, Config: cfg},
				x.scenario(rig, func(s *sim.Sim) { last = fromFirstSchedulePoint(s.Log().Events()) }))
			if res.Failed() {
				t.Fatal(res)
			}
			if cfg.Replay != nil {
				t.Logf("schedule %s:\n%s", sim.FormatSchedule(cfg.Replay), last)
				return
			}
			if !res.Exhausted || res.Schedules < 2 {
				t.Errorf("want an exhausted search of several schedules: %s", res)
			}
			t.Log(strings.TrimSpace(res.String()))
		})
	}
}

// TestAsyncExcerptReplays runs the page's replay commands' schedules the
// way the commands do (DRVSIM_SCHEDULE read by sim.EnvConfig) and checks
// that they give the page's traces.
func TestAsyncExcerptReplays(t *testing.T) {
	if _, set := os.LookupEnv(sim.EnvSchedule); set {
		t.Skip("DRVSIM_SCHEDULE is set")
	}
	for _, name := range []string{"driver_unregister", "device_del"} {
		x := asyncExcerpts[name]
		run, err := x.find()
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv(sim.EnvSchedule, sim.FormatSchedule(run.Schedule()))
		rig := &asyncRig{}
		var got string
		res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 2, Config: sim.EnvConfig(name, 0)},
			x.scenario(rig, func(s *sim.Sim) { got = fromFirstSchedulePoint(s.Log().Events()) }))
		rig.close()
		if res.Failed() || res.Schedules != 1 {
			t.Fatalf("%s: %s", name, res)
		}
		if want := fromFirstSchedulePoint(run.Events); got != want {
			t.Errorf("%s: the replayed trace differs:\n%s", name, lineDiff(strings.Split(want, "\n"), strings.Split(got, "\n")))
		}
	}
}

// TestAsyncCodeExcerpt checks that the Go excerpt of testing.md's section
// on asynchronous probe is still in this file: every line of its ```go
// block, apart from "..." elisions, must be a line of async_test.go
// (compared without leading and trailing blanks).
func TestAsyncCodeExcerpt(t *testing.T) {
	src, err := os.ReadFile("async_test.go")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(src), "\n") {
		have[strings.TrimSpace(l)] = true
	}
	page, err := os.ReadFile("testing.md")
	if err != nil {
		t.Fatal(err)
	}
	const heading = "## Asynchronous probe under the explorer"
	_, section, ok := strings.Cut(string(page), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("testing.md has no %q section", heading)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	in, lines := false, 0
	for _, l := range strings.Split(section, "\n") {
		switch {
		case !in && l == "```go":
			in = true
			continue
		case in && l == "```":
			in = false
			continue
		case !in:
			continue
		}
		s := strings.TrimSpace(l)
		if s == "" || s == "..." {
			continue
		}
		lines++
		if !have[s] {
			t.Errorf("testing.md, %s: not a line of docs/async_test.go: %s", heading, s)
		}
	}
	if lines == 0 {
		t.Errorf("testing.md, %s: no ```go excerpt", heading)
	}
}

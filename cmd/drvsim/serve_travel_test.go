package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/scenarios"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// exploreTravel explores the named scenario with its defaults and
// prepares its failing run.
func exploreTravel(t *testing.T, name string) *travel {
	t.Helper()
	sc, ok := scenarios.Lookup(name)
	require.True(t, ok)
	res := sc.Explore(sc.Config())
	require.True(t, res.Failed(), "%s: no failure", name)
	tr, err := newTravel(sc, res.Failure, "explored")
	require.NoError(t, err)
	return tr
}

// noteScenario is a scenario of two tasks that say what they do: a says
// a1, reaches a schedule point, says a2; b says b1 and b2 the same way.
func noteScenario() sim.Scenario {
	return sim.Scenario{Name: "notes", New: func() sim.Setup {
		return sim.Setup{Run: func(s *sim.Sim) {
			say := func(m string) { s.Log().Emit(trace.Event{Kind: trace.Note, Func: "say", Msg: m}) }
			say("setup")
			for _, name := range []string{"a", "b"} {
				s.Go(name, func() {
					say(name + "1")
					s.CondResched(name)
					say(name + "2")
				})
			}
		}}
	}}
}

// stepNotes returns the notes of each step's events, step 0 first.
func stepNotes(tr *travel) []string {
	var out []string
	for k := 0; k <= tr.steps(); k++ {
		v := tr.view(k)
		var notes []string
		for _, e := range tr.res.Events[v.From:v.To] {
			if e.Kind == trace.Note {
				notes = append(notes, e.Msg)
			}
		}
		out = append(out, strings.Join(notes, " "))
	}
	return out
}

// A step's events are those of the task it chose, up to that task's next
// schedule point; step 0 is the set-up.
func TestTravelStepEvents(t *testing.T) {
	sc := noteScenario()
	setup := sc.New()
	res := sim.Run(sim.Config{Replay: []string{"a", "b", "a", "b"}}, setup.Run)
	require.False(t, res.Failed(), "%s", res)
	tr, err := newTravel(sc, res, "replayed")
	require.NoError(t, err)
	// start -> a; a at cond_resched -> b; b at cond_resched -> a; a exits
	// -> b; b exits.
	assert.Equal(t, []string{"setup", "a1", "b1", "a2", "b2", ""}, stepNotes(tr))
	assert.Equal(t, []taskView{{Name: "a", State: "runnable", Detail: "preempted at cond_resched a"}, {Name: "b", State: "running", Detail: "at cond_resched b"}}, tr.view(2).Tasks)
	assert.Equal(t, []taskView{{Name: "a", State: "exited"}, {Name: "b", State: "running", Detail: "at exit"}}, tr.view(4).Tasks)
	assert.Equal(t, []taskView{{Name: "a", State: "not started"}, {Name: "b", State: "not started"}}, tr.view(0).Tasks)
}

// A run that does not replay the same way (the scenario is not
// deterministic apart from its schedule) cannot be stepped through.
func TestTravelRefusesANondeterministicRun(t *testing.T) {
	runs := 0
	sc := sim.Scenario{Name: "counter", New: func() sim.Setup {
		return sim.Setup{Run: func(s *sim.Sim) {
			runs++
			n := runs
			s.Go("a", func() {
				s.CondResched("a")
				s.Log().Emit(trace.Event{Kind: trace.Note, Func: "say", Msg: fmt.Sprint("run ", n)})
				s.CondResched("a")
			})
		}}
	}}
	res := sim.Run(sim.Config{}, sc.New().Run)
	require.False(t, res.Failed())
	_, err := newTravel(sc, res, "run")
	require.ErrorIs(t, err, errNotReplayable)
	assert.Contains(t, err.Error(), `was "   3 [a] say: run 1"`)
}

// The broken skeleton's use-after-free: the report opens at the step of
// the bad access, and names the step that freed the buffer, where the
// memory view shows it go.
func TestTravelUseAfterFree(t *testing.T) {
	tr := exploreTravel(t, "usb-skel-broken")
	f := tr.failure()
	require.NotNil(t, f)
	assert.Equal(t, "use-after-free", f.Kind)
	assert.Equal(t, tr.res.Failure.Step, f.Step, "the step of the report's event is the step count the report gives")
	assert.Equal(t, tr.steps(), f.Step)
	var freed failureMark
	for _, m := range f.Marks {
		if m.What == "Freed" {
			freed = m
		}
	}
	require.NotZero(t, freed.Seq, "marks: %+v", f.Marks)
	assert.Equal(t, "unplug", freed.Task)
	assert.Less(t, freed.Step, f.Step)

	buffer := func(k int) memObject {
		for _, o := range tr.view(k).Memory.Objects {
			if o.Name == "bulk_in_buffer" {
				return o
			}
		}
		t.Fatalf("step %d: no bulk_in_buffer", k)
		return memObject{}
	}
	assert.Zero(t, buffer(freed.Step-1).Free, "live before the step that frees it")
	assert.Equal(t, freed.Seq, buffer(freed.Step).Free)
	assert.True(t, buffer(freed.Step).Reported)

	for k := 0; k <= tr.steps(); k++ {
		assert.Equal(t, k == f.Step, tr.view(k).Failed, "step %d", k)
	}
	last := tr.view(f.Step)
	states := map[string]string{}
	for _, tv := range last.Tasks {
		states[tv.Name] = tv.State
	}
	assert.Equal(t, map[string]string{"reader": "failed", "unplug": "exited", "hardware": "exited"}, states)

	// The interface is bound at the start; the unplug deletes it.
	has := func(v stepView, name string) bool {
		return slices.ContainsFunc(v.Tree.Devices, func(d treeDevice) bool { return d.Name == name })
	}
	first := tr.view(0)
	require.True(t, has(first, "1-1:1.0"))
	assert.Equal(t, "skel-broken", first.Tree.Devices[slices.IndexFunc(first.Tree.Devices, func(d treeDevice) bool { return d.Name == "1-1:1.0" })].Driver)
	assert.False(t, has(last, "1-1:1.0"))
	assert.Contains(t, tr.replay(), "drvsim explore -schedule '")
}

// Every context switch's event lies in the step that made it.
func TestTravelSwitchesLieInTheirSteps(t *testing.T) {
	for _, name := range []string{"usb-skel-broken", "drm-udl-broken", "usb-skel-broken-rmmod"} {
		tr := exploreTravel(t, name)
		switches := 0
		for k := 1; k <= tr.steps(); k++ {
			st := tr.res.Steps[k-1]
			v := tr.view(k)
			if st.Next == "" || st.Next == st.Task {
				continue
			}
			want := st.Point.String() + " -> " + st.Next
			found := slices.ContainsFunc(tr.res.Events[v.From:v.To], func(e trace.Event) bool {
				return e.Kind == trace.Sched && e.Func == "schedule" && e.Msg == want
			})
			assert.True(t, found, "%s step %d: no %q in events %d..%d", name, k, want, v.From+1, v.To)
			switches++
		}
		assert.Positive(t, switches, name)
	}
}

// The tree and the memory rebuilt from a run's trace are the driver
// core's and the memory checker's at the end of the run, for every
// registered scenario.
func TestTraceTreeMatchesTheCore(t *testing.T) {
	cores := 0
	for _, sc := range scenarios.All() {
		setup := sc.New()
		s := sim.New(sim.Config{Mode: sim.Exhaustive})
		res := s.Run(setup.Run)
		tree := newTraceTree()
		for _, e := range res.Events {
			tree.add(e)
		}
		got := tree.view()
		want := treeView{Devices: []treeDevice{}, Links: []treeLink{}}
		if c := bus.CoreOf(s); c != nil {
			cores++
			want = liveTree(c, nil, tree.files)
		}
		for i := range got.Devices {
			got.Devices[i].Override = ""
		}
		for i := range want.Devices {
			want.Devices[i].Override = ""
		}
		assert.Equal(t, want, got, sc.Name)

		var live []string
		for _, o := range s.Memory().Live() {
			live = append(live, o.Name())
		}
		var rebuilt []string
		for _, o := range memoryView(res.Events, nil).Objects {
			if o.Free == 0 {
				rebuilt = append(rebuilt, o.Name)
			}
		}
		assert.Equal(t, live, rebuilt, sc.Name)
		if setup.Close != nil {
			setup.Close()
		}
	}
	assert.Positive(t, cores)
}

// The runtime PM the tree rebuilt from a run's trace shows is the PM
// core's at every step of the run, not only at its end: at each context
// switch (a "schedule" event, when every task is parked at a schedule
// point), for the first schedule and a few random ones of every
// registered scenario. The runtime PM scenarios suspend and resume
// devices, with their autosuspend timers and pm_wq's worker as tasks of
// their own, which the random schedules preempt in the middle of a
// transition ("suspending", "resuming").
func TestTraceTreeRuntimePMAtEveryStep(t *testing.T) {
	seen := map[string]int{}
	for _, sc := range scenarios.All() {
		for seed := range 20 {
			cfg := sim.Config{Mode: sim.Exhaustive}
			if seed > 0 {
				cfg = sim.Config{Seed: uint64(seed)}
			}
			cfg.Log = trace.NewLog()
			setup := sc.New()
			s := sim.New(cfg)
			tree := newTraceTree()
			mismatch := ""
			cancel := cfg.Log.Subscribe(func(e trace.Event) {
				tree.add(e)
				c := bus.CoreOf(s)
				if c == nil || mismatch != "" || e.Kind != trace.Sched || e.Func != "schedule" {
					return
				}
				for _, d := range c.Devices() {
					want := liveRPM(d)
					r := tree.rpm[d.Path()]
					if got := rpmWord(r.enabled, r.status); got != want {
						mismatch = fmt.Sprintf("%s seed %d at %s: %s is %s, the trace tells %s", sc.Name, seed, e, d.Path(), want, got)
					}
					seen[want]++
				}
			})
			s.Run(setup.Run)
			cancel()
			if setup.Close != nil {
				setup.Close()
			}
			assert.Empty(t, mismatch)
		}
	}
	for _, w := range []string{"unsupported", "active", "suspended", "suspending", "resuming"} {
		assert.Positive(t, seen[w], "no device was %s at a context switch: %v", w, seen)
	}
}

// Time travel shows a device's runtime PM as it was at each step: the
// broken sensor driver's run, whose autosuspend (run by pm_wq's worker
// once the timer fired) frees the registers its ioctl then reads. The
// sensor is active until the worker's runtime_suspend, suspending while
// the callback runs, and suspended at the use-after-free.
func TestTravelRuntimePM(t *testing.T) {
	tr := exploreTravel(t, "pm-ioctl-no-get-vs-runtime-suspend")
	var words []string
	for k := 0; k <= tr.steps(); k++ {
		for _, d := range tr.view(k).Tree.Devices {
			if d.Name == "sensor" && (len(words) == 0 || words[len(words)-1] != d.RPM) {
				words = append(words, d.RPM)
			}
		}
	}
	assert.Equal(t, []string{"active", "suspending", "suspended"}, words)
	f := tr.failure()
	require.NotNil(t, f)
	last := tr.view(f.Step).Tree
	require.Len(t, last.Devices, 1)
	assert.Equal(t, "suspended", last.Devices[0].RPM)
}

package sim_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// threeTasks starts three tasks that each emit a note, yield, and emit
// another note, three times.
func threeTasks(s *sim.Sim) {
	for _, name := range []string{"a", "b", "c"} {
		s.Go(name, func() {
			for i := 0; i < 3; i++ {
				s.Log().Emit(trace.Event{Kind: trace.Note, Func: "work", Msg: fmt.Sprint(name, i)})
				s.CondResched(fmt.Sprint("loop ", i))
			}
		})
	}
}

func TestSameSeedReplaysByteForByte(t *testing.T) {
	for seed := uint64(0); seed < 5; seed++ {
		r1 := sim.Run(sim.Config{Seed: seed}, threeTasks)
		r2 := sim.Run(sim.Config{Seed: seed}, threeTasks)
		require.False(t, r1.Failed(), r1.String())
		assert.Equal(t, r1.ScheduleText(), r2.ScheduleText())
		assert.Equal(t, r1.TraceText(), r2.TraceText())
		assert.Equal(t, r1.String(), r2.String())
		// Every event carries its task.
		for _, e := range trace.Filter(r1.Events, trace.OfKind(trace.Note)) {
			assert.Equal(t, e.Msg[:1], e.Task)
		}
	}
}

func TestDifferentSeedsGiveDifferentInterleavings(t *testing.T) {
	seen := map[string]bool{}
	for seed := uint64(0); seed < 20; seed++ {
		r := sim.Run(sim.Config{Seed: seed}, threeTasks)
		require.False(t, r.Failed())
		seen[strings.Join(r.Schedule(), ",")] = true
	}
	assert.Greater(t, len(seen), 10, "20 seeds should give many distinct schedules")
}

func TestReplayScheduleIsExact(t *testing.T) {
	r := sim.Run(sim.Config{Seed: 7}, threeTasks)
	rep := sim.Run(sim.Config{Seed: 999, Replay: r.Schedule()}, threeTasks)
	require.False(t, rep.Failed(), rep.String())
	assert.Equal(t, r.TraceText(), rep.TraceText())
	assert.Equal(t, r.Schedule(), rep.Schedule())
	assert.True(t, rep.Replayed)

	text := sim.FormatSchedule(r.Schedule())
	parsed, err := sim.ParseSchedule(text)
	require.NoError(t, err)
	assert.Equal(t, r.Schedule(), parsed)
}

func TestReplayDivergenceFails(t *testing.T) {
	r := sim.Run(sim.Config{Replay: []string{"a", "nosuchtask"}}, threeTasks)
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugReplay, r.Failure.Kind)
	assert.Contains(t, r.Failure.Details, "asks for task nosuchtask, but the runnable tasks are: a, b, c")
}

func TestEnvConfigAndHint(t *testing.T) {
	t.Setenv(sim.EnvSeed, "42")
	t.Setenv(sim.EnvSchedule, "a*2,b")
	cfg := sim.EnvConfig(t.Name(), 1)
	assert.Equal(t, uint64(42), cfg.Seed)
	assert.Equal(t, []string{"a", "a", "b"}, cfg.Replay)
	seed, err := sim.SeedFromEnv(1)
	require.NoError(t, err)
	assert.Equal(t, uint64(42), seed)

	r := &sim.Result{Seed: 42, Test: "TestX/sub"}
	assert.Equal(t, "DRVSIM_SEED=42 go test -run '^TestX$/^sub$' ./sim", r.ReplayHint())
	r = &sim.Result{Replayed: true, Steps: []sim.Step{{Next: "a"}, {Next: "a"}, {Next: "b"}, {}}, Pkg: "./x"}
	assert.Equal(t, "DRVSIM_SCHEDULE=a*2,b go test ./x", r.ReplayHint())
}

func TestOutsideATaskIsSane(t *testing.T) {
	s := sim.New(sim.Config{})
	p := sched.Point{Kind: "yield"}
	s.Yield(p) // before Run: no-op
	assert.Equal(t, "", s.Current())
	assert.NoError(t, s.Fault("x"))
	s.Block(sched.Wait{What: "nothing"}, func() bool { return true })
	assert.PanicsWithValue(t, `sim: Block("never") outside a simulated task: the condition is false and nothing can make it true`,
		func() { s.Block(sched.Wait{What: "never"}, func() bool { return false }) })

	var cur []string
	r := s.Run(func(s *sim.Sim) {
		s.Yield(p) // setup code: no-op
		cur = append(cur, s.Current())
		s.Go("t", func() { cur = append(cur, s.Current()) })
		s.Sleep(5) // setup: the clock moves at once
	})
	require.False(t, r.Failed(), r.String())
	assert.Equal(t, []string{"", "t"}, cur)
	assert.Equal(t, []sim.FaultHit{{Point: "x", Hits: 1}}, r.FaultHits)
	s.Yield(p) // after Run: no-op
	assert.Panics(t, func() { s.Go("late", func() {}) })
	assert.Panics(t, func() { s.Run(nil) })
}

func TestBlockOutsideTaskInSetupFailsClearly(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		s.Block(sched.Wait{What: "never"}, func() bool { return false })
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugPanic, r.Failure.Kind)
	assert.Contains(t, r.Failure.Title, "BUG: panic in task <setup>: sim: Block(\"never\") outside a simulated task")
}

func TestStepBoundStopsALivelock(t *testing.T) {
	unwound := false
	r := sim.Run(sim.Config{MaxSteps: 100}, func(s *sim.Sim) {
		s.Go("spinner", func() {
			defer func() { unwound = true }()
			for {
				s.CondResched("spin")
			}
		})
		s.Go("idle", func() { s.Sleep(1000) })
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugStepBound, r.Failure.Kind)
	assert.Equal(t, "BUG: livelock: step bound reached", r.Failure.Title)
	assert.Contains(t, r.Failure.Details, "Last point: cond_resched spin in task spinner")
	assert.Contains(t, r.Failure.Details, "idle (sleeping until 1µs)")
	assert.Len(t, r.Steps, 101)
	assert.True(t, unwound, "the spinning task was unwound, its defers ran")
}

func TestPanicInTaskIsAFailure(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		mu := kernel.NewMutex(s, "m")
		s.Go("holder", func() {
			mu.Lock()
			s.CondResched("hold")
			mu.Unlock()
		})
		s.Go("crasher", func() {
			var m map[string]int
			//lint:ignore SA5000 the write must panic: that is the test
			m["boom"]++ // nil map write
		})
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugPanic, r.Failure.Kind)
	assert.Equal(t, "crasher", r.Failure.Task)
	assert.Equal(t, "BUG: panic in task crasher: assignment to entry in nil map", r.Failure.Title)
	assert.Contains(t, r.Failure.Details, "sim_test.TestPanicInTaskIsAFailure.func1.2 (scheduler_test.go:")
}

func TestGoFromATaskIsASchedulePoint(t *testing.T) {
	var order []string
	r := sim.Run(sim.Config{Replay: []string{"parent", "child", "parent"}}, func(s *sim.Sim) {
		s.Go("parent", func() {
			s.Go("child", func() { order = append(order, "child") })
			order = append(order, "parent")
		})
	})
	require.False(t, r.Failed(), r.String())
	assert.Equal(t, []string{"child", "parent"}, order)
	assert.Equal(t, "spawn child", r.Steps[1].Point.String())
	assert.True(t, r.Steps[1].Preempt)
}

func TestTaskNamesAreUnique(t *testing.T) {
	var names []string
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		for i := 0; i < 3; i++ {
			s.Go("w", func() { names = append(names, s.Current()) })
		}
	})
	require.False(t, r.Failed())
	assert.ElementsMatch(t, []string{"w", "w#2", "w#3"}, names)
}

func TestStrayGoroutineCannotTakeTheToken(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		s.Go("t", func() {
			done := make(chan any)
			go func() {
				defer func() { done <- recover() }()
				s.Yield(sched.Point{Kind: "stray"}) // not a task: no-op
				s.Block(sched.Wait{What: "x"}, func() bool { return false })
			}()
			assert.Equal(t, `sim: Block("x") outside a simulated task: the condition is false and nothing can make it true`, <-done)
		})
	})
	require.False(t, r.Failed(), r.String())
}

// Every task of a run has an identity of its own (env.Self, what locks
// record as their owner), also a task started after another one ended.
func TestTaskIdentitiesAreUniqueInARun(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, func(s *sim.Sim) {
		seen := map[uint64]string{}
		var mu sync.Mutex
		note := func() {
			mu.Lock()
			defer mu.Unlock()
			id := uint64(s.Env().Self())
			if other, ok := seen[id]; ok {
				panic(fmt.Sprintf("%s has the identity of %s", s.Current(), other))
			}
			seen[id] = s.Current()
		}
		s.Go("first", func() {
			note()
			s.Go("second", func() {
				note()
				s.Go("third", note)
			})
		})
	})
	require.False(t, res.Failed(), res.String())
}

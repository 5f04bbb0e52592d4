package sim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
)

// A component's worker, spawned from setup code and from a task, runs as
// tasks the explorer interleaves; Spawn refuses when no task can start.
func TestSpawnFromSetupAndTask(t *testing.T) {
	var ran []string
	var fromStray, afterRun bool
	var keep *sim.Sim
	scenario := func(s *sim.Sim) {
		keep = s
		var sp sched.Spawner = s
		require.True(t, sp.Spawn("worker", func() {
			s.CondResched("work")
			ran = append(ran, s.Current())
		}, nil))
		s.Go("caller", func() {
			done := make(chan bool)
			go func() { done <- sp.Spawn("stray", func() {}, nil) }() // not a task
			fromStray = <-done
			sp.Spawn("worker", func() { ran = append(ran, s.Current()) }, nil)
		})
	}
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, scenario)
	require.False(t, res.Failed(), res.String())
	assert.Greater(t, res.Schedules, 1)
	assert.False(t, fromStray)
	assert.Contains(t, ran, "worker")
	assert.Contains(t, ran, "worker#2")
	afterRun = keep.Spawn("late", func() {}, nil)
	assert.False(t, afterRun)
}

// A spawned task that never ran because the run failed first gets its
// abandon callback, once, with no task running; one that ran does not.
func TestSpawnAbandonOnFailedRun(t *testing.T) {
	var abandoned []string
	var current string
	res := sim.Run(sim.Config{Mode: sim.Exhaustive}, func(s *sim.Sim) {
		s.Go("boom", func() {
			s.Spawn("never", func() { t.Error("never ran") }, func() {
				abandoned = append(abandoned, "never")
				current = s.Current()
			})
			panic("boom")
		})
	})
	require.True(t, res.Failed())
	assert.Equal(t, sim.BugPanic, res.Failure.Kind)
	assert.Equal(t, []string{"never"}, abandoned)
	assert.Equal(t, "", current)

	abandoned = nil
	res = sim.Run(sim.Config{}, func(s *sim.Sim) {
		s.Spawn("ok", func() {}, func() { abandoned = append(abandoned, "ok") })
	})
	require.False(t, res.Failed(), res.String())
	assert.Empty(t, abandoned)
}

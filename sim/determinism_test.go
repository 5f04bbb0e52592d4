package sim_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/sim/toy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mapOrder starts three tasks, one schedule point each, in Go map order:
// 6!/(2!2!2!) = 90 interleavings, but which task is created first changes
// from run to run.
func mapOrder(s *sim.Sim) {
	tasks := map[string]bool{"a": true, "b": true, "c": true}
	for name := range tasks {
		s.Go(name, func() { s.CondResched("mid") })
	}
}

// The mistake: a scenario whose tasks are created in Go map order
// must not pass an exhaustive search as "space exhausted" after running a
// part of it; the search stops with a nondeterminism report instead.
func TestMapOrderScenarioIsNotExhausted(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, mapOrder)
	require.True(t, res.Failed(), res.String())
	assert.False(t, res.Exhausted)
	assert.False(t, res.Trusted())
	assert.Equal(t, sim.BugNondeterminism, res.Failure.Failure.Kind)
	assert.NotContains(t, res.String(), "space exhausted")
	assert.NotContains(t, res.String(), "replay:", "no replay hint for a search that cannot be replayed")
	assert.Contains(t, res.String(), "stopped: nondeterminism at step ")
	t.Log("\n" + res.String())

	// The same scenario with its tasks in a fixed order runs all 90.
	fixed := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, func(s *sim.Sim) {
		for _, name := range []string{"a", "b", "c"} {
			s.Go(name, func() { s.CondResched("mid") })
		}
	})
	require.False(t, fixed.Failed(), fixed.String())
	assert.True(t, fixed.Exhausted)
	assert.Equal(t, 90, fixed.Schedules)
}

func TestNondeterministicTaskOrderIsReported(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, toy.StateKeptBetweenRuns())
	require.True(t, res.Failed())
	f := res.Failure.Failure
	assert.Equal(t, sim.BugNondeterminism, f.Kind)
	assert.Equal(t, "nondeterminism at step 1: the scenario did not repeat itself", f.Title)
	assert.Contains(t, f.Details, "the task created 1st is unplug in this run, task probe in the earlier run")
	assert.Equal(t, 2, res.Schedules, "found on the first re-run")
	assert.False(t, res.Exhausted)

	// Random exploration replays its first schedule before counting any:
	// the same scenario is caught there.
	rnd := sim.Explore(sim.ExploreConfig{Mode: sim.Random, Schedules: 50}, toy.StateKeptBetweenRuns())
	require.True(t, rnd.Failed())
	assert.Equal(t, sim.BugNondeterminism, rnd.Failure.Failure.Kind)
	assert.Contains(t, rnd.Failure.Failure.Details, "(found replaying the failing schedule to confirm it)")
	assert.Equal(t, 1, rnd.Schedules)
}

// A step that differs from the earlier run's (here: the schedule point's
// name comes from a counter kept between runs) names both.
func TestNondeterministicStepIsReported(t *testing.T) {
	var runs atomic.Int32
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, func(s *sim.Sim) {
		n := runs.Add(1)
		s.Go("a", func() { s.CondResched(fmt.Sprint("mid ", n)) })
		s.Go("b", func() { s.CondResched("mid") })
	})
	require.True(t, res.Failed())
	f := res.Failure.Failure
	assert.Equal(t, sim.BugNondeterminism, f.Kind)
	assert.Equal(t, "nondeterminism at step 2: the scenario did not repeat itself", f.Title)
	assert.Contains(t, f.Details, "earlier run: task a at cond_resched mid 1, runnable {a, b}\n"+
		"  this run:    task a at cond_resched mid 2, runnable {a, b}\n")
}

// A failure that does not come back when its schedule is replayed is not
// reported as a finding.
func TestFailureThatDoesNotReplayIsNondeterminism(t *testing.T) {
	var runs atomic.Int32
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Random, Schedules: 10}, func(s *sim.Sim) {
		n := runs.Add(1)
		s.Go("t", func() {
			if n == 3 { // the search's second schedule (the first is replayed once), not its replay
				panic("flaky")
			}
		})
	})
	require.True(t, res.Failed())
	assert.Equal(t, sim.BugNondeterminism, res.Failure.Failure.Kind)
	assert.Contains(t, res.Failure.Failure.Details, "but replayed it passes")
}

package sim_test

import (
	"testing"

	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/sim/toy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every failure random exploration finds is reported with the fewest
// preemptions any schedule needs to fail that way, proven by the
// exhaustive search below it, and that schedule replays.
func TestReportedScheduleIsMinimal(t *testing.T) {
	found, reduced := 0, 0
	for seed := uint64(0); seed < 80; seed++ {
		res := sim.Explore(sim.ExploreConfig{Mode: sim.Random, Schedules: 1, Config: sim.Config{Seed: seed}}, toy.CheckThenUse)
		if !res.Failed() {
			continue
		}
		found++
		require.NotNil(t, res.Minimal, res.String())
		assert.Equal(t, 1, res.Minimal.Preemptions, "seed %d", seed)
		assert.True(t, res.MinimalProven, "seed %d", seed)
		assert.Equal(t, res.Failure.Failure.Title, res.Minimal.Failure.Title)
		assert.Same(t, res.Minimal, res.Reported())
		if res.Failure.Preemptions > 1 {
			reduced++
			assert.Contains(t, res.String(), "minimal: the same failure with 1 preemption (the schedule found had ")
			assert.Contains(t, res.String(), "; no schedule with fewer fails this way\n")
		}
		again := sim.Run(sim.Config{Replay: res.Minimal.Schedule()}, toy.CheckThenUse)
		assert.Equal(t, res.Minimal.TraceText(), again.TraceText())
		assert.Equal(t, res.Minimal.ScheduleText(), again.ScheduleText())
	}
	assert.Greater(t, found, 10)
	assert.Positive(t, reduced, "some random failure had needless preemptions")
}

// A failure that needs no preemption at all is reported with none: the
// exhaustive search's first failure is not always the smallest.
func TestMinimalFromExhaustiveSearch(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, func(s *sim.Sim) {
		buf := s.Alloc("buf")
		s.Go("a", func() {
			s.CondResched("a1")
			buf.Access("a")
		})
		s.Go("b", func() { buf.Free() })
	})
	require.True(t, res.Failed())
	assert.Equal(t, 1, res.Failure.Preemptions, "depth-first, b runs after a's preemption")
	assert.Equal(t, 0, res.Minimal.Preemptions, "b first, then a: no preemption")
	assert.True(t, res.MinimalProven)
	assert.Contains(t, res.String(), "minimal: the same failure with 0 preemptions (the schedule found had 1), the fewest possible\n")
}

// With the budget spent before the search is over, the result says how far
// it got.
func TestMinimizeBudget(t *testing.T) {
	var res *sim.ExploreResult
	for seed := uint64(0); ; seed++ {
		res = sim.Explore(sim.ExploreConfig{Mode: sim.Random, Schedules: 1, MinimizeBudget: 1, Config: sim.Config{Seed: seed}}, toy.CheckThenUse)
		if res.Failed() && res.Failure.Preemptions > 1 {
			break
		}
		require.Less(t, seed, uint64(200))
	}
	assert.False(t, res.MinimalProven)
	assert.Equal(t, -1, res.MinimalBound)
	assert.Same(t, res.Failure, res.Minimal)
	assert.Contains(t, res.String(), "the search for fewer ran out of budget")

	off := sim.Explore(sim.ExploreConfig{Mode: sim.Random, Schedules: 1, NoMinimize: true, Config: sim.Config{Seed: res.Failure.Seed}}, toy.CheckThenUse)
	require.True(t, off.Failed())
	assert.Nil(t, off.Minimal)
	assert.Same(t, off.Failure, off.Reported())
}

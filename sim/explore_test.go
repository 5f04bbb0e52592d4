package sim_test

import (
	"testing"

	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/sim/toy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// twoSegments starts two tasks with one schedule point each: their two
// halves interleave in C(4,2) = 6 ways.
func twoSegments(s *sim.Sim) {
	for _, n := range []string{"a", "b"} {
		s.Go(n, func() { s.CondResched("mid") })
	}
}

func TestExhaustiveCountsEveryInterleaving(t *testing.T) {
	var progress []sim.Progress
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Progress: func(p sim.Progress) { progress = append(progress, p) }}, twoSegments)
	require.False(t, res.Failed())
	assert.True(t, res.Exhausted)
	assert.Equal(t, 6, res.Schedules)
	require.Len(t, progress, 6)
	assert.Equal(t, sim.Progress{Schedules: 6, Limit: 1000}, progress[5])

	// Preemption bounding (CHESS): with at most one preemption, a1 b1 a2 b2
	// and b1 a1 b2 a2 (two preemptions each) are pruned.
	bounded := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 1}, twoSegments)
	assert.True(t, bounded.Exhausted)
	assert.Equal(t, 4, bounded.Schedules)

	capped := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 4}, twoSegments)
	assert.False(t, capped.Exhausted)
	assert.Equal(t, 4, capped.Schedules)
}

func TestExploreReplaysAForcedSchedule(t *testing.T) {
	t.Setenv(sim.EnvSchedule, "reader,unplug,reader")
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.EnvConfig(t.Name(), 0)}, toy.RacyDriver)
	require.True(t, res.Failed())
	assert.Equal(t, 1, res.Schedules)
	assert.Equal(t, "BUG: KASAN: use-after-free in read", res.Failure.Failure.Title)
}

func TestPCTFindsUseAfterFree(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.PCT, Schedules: 100, Config: sim.Config{Seed: 1}}, toy.RacyDriver)
	require.True(t, res.Failed(), res.String())
	assert.Equal(t, sim.BugUseAfterFree, res.Failure.Failure.Kind)
	assert.Equal(t, sim.PCT, res.Failure.Mode)
}

// PCT measures the length of a run first (schedule 1) unless PCTSteps is
// given; then every schedule is a seed.
func TestPCTSchedulesCount(t *testing.T) {
	var seeds []uint64
	count := func(s *sim.Sim) {
		seeds = append(seeds, s.Seed())
		twoSegments(s)
	}
	res := sim.Explore(sim.ExploreConfig{Mode: sim.PCT, Schedules: 4, Config: sim.Config{Seed: 10}}, count)
	assert.Equal(t, 4, res.Schedules)
	assert.Equal(t, []uint64{10, 10, 10, 11, 12}, seeds, "the measure, seed 10 and its determinism replay, 11, 12")

	seeds = nil
	res = sim.Explore(sim.ExploreConfig{Mode: sim.PCT, Schedules: 4, Config: sim.Config{Seed: 10, PCTSteps: 8}}, count)
	assert.Equal(t, 4, res.Schedules)
	assert.Equal(t, []uint64{10, 10, 11, 12, 13}, seeds)
}

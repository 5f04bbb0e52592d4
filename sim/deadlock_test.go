package sim_test

import (
	"testing"

	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/sim/toy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeadlockFoundByExhaustiveSearch(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.EnvConfig(t.Name(), 0)}, toy.ABBA)
	require.True(t, res.Failed(), res.String())
	f := res.Failure.Failure
	assert.Equal(t, sim.BugDeadlock, f.Kind)
	assert.Equal(t, "BUG: deadlock: 2 tasks blocked forever", f.Title)
	assert.Contains(t, f.Details, "INFO: task t1 blocked on mutex B, held by t2\n")
	assert.Contains(t, f.Details, "INFO: task t2 blocked on mutex A, held by t1\n")
	assert.Contains(t, f.Details, "wait-for chain:\n  t1 -> [mutex B] -> t2 -> [mutex A] -> t1 (cycle)\n")
	assert.Contains(t, res.String(), "replay: DRVSIM_SCHEDULE=")
	t.Log("\n" + res.String())

	// The recorded schedule replays the same deadlock.
	rep := sim.Run(sim.Config{Replay: res.Failure.Schedule(), Test: t.Name()}, toy.ABBA)
	assert.Equal(t, res.Failure.String(), rep.String())
}

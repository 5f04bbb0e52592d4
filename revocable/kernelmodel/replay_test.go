package kernelmodel_test

import (
	"testing"

	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireSeedReplay re-runs a failure found by a random exploration from
// its seed and requires the same report, schedule and trace, byte for
// byte.
func requireSeedReplay(t *testing.T, f *sim.Result, scenario func(*sim.Sim)) {
	t.Helper()
	require.False(t, f.Replayed, "a random failure replays from its seed")
	again := sim.Run(sim.Config{Seed: f.Seed, Mode: sim.Random, Test: t.Name()}, scenario)
	require.True(t, again.Failed())
	assert.Equal(t, f.String(), again.String())
	assert.Equal(t, f.ScheduleText(), again.ScheduleText())
	assert.Equal(t, f.TraceText(), again.TraceText())
}

// requireScheduleReplay re-runs a failure from its schedule, through
// DRVSIM_SCHEDULE as its replay hint says, and requires the same report,
// byte for byte.
func requireScheduleReplay(t *testing.T, f *sim.Result, scenario func(*sim.Sim)) {
	t.Helper()
	t.Setenv(sim.EnvSchedule, sim.FormatSchedule(f.Schedule()))
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.EnvConfig(t.Name(), 1)}, scenario)
	require.Equal(t, 1, res.Schedules, "DRVSIM_SCHEDULE runs one schedule")
	require.True(t, res.Failed())
	assert.Equal(t, f.String(), res.Failure.String())
	assert.Equal(t, f.TraceText(), res.Failure.TraceText())
}

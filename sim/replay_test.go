package sim_test

import (
	"testing"

	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/sim/toy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tutorial's pattern, exhaustive search then require.True(Exhausted),
// holds when DRVSIM_SCHEDULE replays a schedule that passes: the replay is
// the whole space it was asked to cover.
func TestPassingReplayIsExhausted(t *testing.T) {
	t.Setenv(sim.EnvSchedule, "reader*2,unplug") // the reader done before the unplug
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.EnvConfig(t.Name(), 0)}, toy.RacyDriver)
	require.False(t, res.Failed(), res.String())
	assert.True(t, res.Exhausted)
	assert.True(t, res.Replay)
	assert.Equal(t, 1, res.Schedules)
	assert.Equal(t, "explore (replay): 1 schedule, passed\n", res.String())
}

// A replay that no longer fits says where and how, fails, and gives no
// replay hint: there is nothing to replay.
func TestDivergingReplayIsItsOwnOutcome(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.Config{Replay: []string{"reader", "reader", "reader"}}}, toy.RacyDriver)
	require.True(t, res.Failed())
	assert.False(t, res.Trusted())
	assert.NoError(t, res.Err, "reader is a task of the scenario: not a usage error")
	f := res.Failure.Failure
	assert.Equal(t, sim.BugReplay, f.Kind)
	assert.Equal(t, "replay diverged at step 3: wanted reader, enabled {unplug}", f.Title)
	out := res.String()
	assert.Contains(t, out, "explore (replay): 1 schedule, replay diverged at step 3: wanted reader, enabled {unplug}\n")
	assert.NotContains(t, out, "replay: ")
	assert.NotContains(t, res.Failure.String(), "replay: ")
	assert.NotContains(t, out, "BUG")
}

// A schedule naming a task the scenario never has is a usage error.
func TestReplayOfAnUnknownTaskIsAUsageError(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.Config{Replay: []string{"nosuchtask"}}}, toy.RacyDriver)
	require.True(t, res.Failed())
	require.ErrorIs(t, res.Err, sim.ErrUnknownTask)
	assert.Equal(t, `the schedule names a task the scenario does not have: "nosuchtask" (its tasks: reader, unplug)`, res.Err.Error())
	assert.Contains(t, res.Failure.Failure.Details, "No task named nosuchtask exists in this run (its tasks so far: reader, unplug).")
}

// A replayed schedule that fails is reported with its own replay hint,
// which replays it again.
func TestFailingReplayReportsTheFailure(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.Config{Replay: []string{"reader", "unplug", "reader"}, Pkg: "./sim"}}, toy.RacyDriver)
	require.True(t, res.Failed())
	assert.True(t, res.Trusted())
	assert.Equal(t, sim.BugUseAfterFree, res.Failure.Failure.Kind)
	assert.Nil(t, res.Minimal, "a replay is reported as it ran")
	assert.Contains(t, res.String(), "explore (replay): 1 schedule, failed\n")
	assert.Contains(t, res.String(), "replay: DRVSIM_SCHEDULE=reader,unplug,reader go test ./sim\n")
}

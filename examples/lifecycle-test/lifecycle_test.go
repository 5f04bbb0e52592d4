package main

// These are the tests a driver author writes with drvsim: build the
// scenario once (unplugRace.scenario in driver.go), then let package sim
// run it under many schedules. Every config comes from sim.EnvConfig, so
// the replay hint of a failure works:
//
//	DRVSIM_SEED=5 go test -run '^TestBuggyDriverIsCaught$' ./examples/lifecycle-test
//	DRVSIM_SCHEDULE='reader*5,unplug*7,reader' go test -run '^TestBuggyDriverCaughtExhaustively$' ./examples/lifecycle-test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// The correct driver survives the unplug in every interleaving of the
// read and the removal: reads return a value or -ENODEV, nothing touches
// freed memory, nothing leaks.
func TestMyDriverSurvivesUnplug(t *testing.T) {
	u := &unplugRace{}
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 10000,
		Config: sim.EnvConfig(t.Name(), 1)}, u.scenario)
	require.False(t, res.Failed(), "%s", res)
	if sch, _ := sim.ScheduleFromEnv(); sch == nil { // DRVSIM_SCHEDULE runs one schedule only
		assert.True(t, res.Exhausted, "every interleaving was tried")
	}
	t.Log(res)
}

// The test must fail for a buggy driver, or it proves nothing: random
// exploration finds the misordered devres of the buggy variant, and the
// seed in the report replays it.
func TestBuggyDriverIsCaught(t *testing.T) {
	cfg := sim.ExploreConfig{Mode: sim.Random, Schedules: 200, Config: sim.EnvConfig(t.Name(), 1)}
	res := sim.Explore(cfg, (&unplugRace{buggy: true}).scenario)
	require.True(t, res.Failed(), "the buggy driver was not caught in %d schedules", res.Schedules)
	f := res.Failure
	assert.Equal(t, sim.BugUseAfterFree, f.Failure.Kind)
	assert.Equal(t, "BUG: KASAN: use-after-free in read TEMP register", f.Failure.Title)
	assert.Contains(t, f.Failure.Details, "freed object mysensor registers")
	assert.Contains(t, f.Failure.Details, "Freed by task unplug")
	assert.Regexp(t, `^DRVSIM_SEED=\d+ go test -run '\^TestBuggyDriverIsCaught\$' ./examples/lifecycle-test$`, f.ReplayHint())
	t.Log(res)

	// What DRVSIM_SEED=<seed> does: the exploration starts at that seed,
	// whose run fails first, the same way, byte for byte.
	cfg.Seed = f.Seed
	again := sim.Explore(cfg, (&unplugRace{buggy: true}).scenario)
	require.True(t, again.Failed())
	assert.Equal(t, 1, again.Schedules)
	assert.Equal(t, f.Schedule(), again.Failure.Schedule())
	assert.Equal(t, trace.Text(f.Events), trace.Text(again.Failure.Events))
}

// Exhaustive search finds the bug too; its report names the schedule
// (DRVSIM_SCHEDULE) rather than a seed, and Config.Replay runs it again.
func TestBuggyDriverCaughtExhaustively(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive,
		Config: sim.EnvConfig(t.Name(), 1)}, (&unplugRace{buggy: true}).scenario)
	require.True(t, res.Failed())
	f := res.Failure
	assert.Equal(t, sim.BugUseAfterFree, f.Failure.Kind)
	assert.Contains(t, f.ReplayHint(), "DRVSIM_SCHEDULE="+sim.FormatSchedule(f.Schedule()))

	u := &unplugRace{buggy: true}
	replay := sim.Run(sim.Config{Replay: f.Schedule()}, u.scenario)
	require.True(t, replay.Failed())
	assert.Equal(t, f.Failure.Title, replay.Failure.Title)
}

// Why the exploration is needed: on the schedule without preemptions, a
// plain test of the buggy driver passes.
func TestPlainRunMissesTheBug(t *testing.T) {
	u := &unplugRace{buggy: true}
	res := sim.Run(sim.Config{Mode: sim.Exhaustive}, u.scenario)
	require.False(t, res.Failed(), "%s", res)
	assert.Zero(t, res.Preemptions)
}

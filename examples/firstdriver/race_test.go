package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/sim"
)

// TestReadVsUnbind is step 4's test as you write it for your own driver:
// every interleaving of a read on the open file and the unbind must pass
// (no use-after-free, no deadlock, no leak, no panic from the scenario's
// checks). EnvConfig makes the replay hint of a failure work:
// DRVSIM_SCHEDULE=... go test -run '^TestReadVsUnbind$' ./examples/firstdriver
func TestReadVsUnbind(t *testing.T) {
	sc := &readVsUnbind{}
	defer sc.close()
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.EnvConfig(t.Name(), 1)}, sc.run)
	require.False(t, res.Failed(), res.String())
	require.True(t, res.Exhausted, res.String())
	t.Log(res)
}

// TestReadVsUnbindRawPointer is the same test on the file without
// revocable. Written for a real driver it would fail; here it checks that
// the search catches the use-after-free.
func TestReadVsUnbindRawPointer(t *testing.T) {
	sc := &readVsUnbind{raw: true}
	defer sc.close()
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.EnvConfig(t.Name(), 1)}, sc.run)
	require.True(t, res.Failed(), "the exhaustive search must catch the raw file")
	assert.Equal(t, sim.BugUseAfterFree, res.Failure.Failure.Kind, res.String())
	t.Log(res)

	// The recorded schedule replays the same report.
	again := sim.Run(sim.Config{Replay: res.Failure.Schedule(), Test: t.Name()}, sc.run)
	assert.Equal(t, res.Failure.String(), again.String())
}

// TestReadVsUnbindRawPointerRandom explores random schedules from a seed
// (DRVSIM_SEED, default 1): a failure's seed replays it.
func TestReadVsUnbindRawPointerRandom(t *testing.T) {
	sc := &readVsUnbind{raw: true}
	defer sc.close()
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Random, Schedules: 100, Config: sim.EnvConfig(t.Name(), 1)}, sc.run)
	require.True(t, res.Failed(), "100 random schedules must catch the raw file")
	assert.Equal(t, sim.BugUseAfterFree, res.Failure.Failure.Kind, res.String())
	t.Log(res)

	again := sim.Run(sim.Config{Seed: res.Failure.Seed, Test: t.Name()}, sc.run)
	assert.Equal(t, res.Failure.String(), again.String())
}

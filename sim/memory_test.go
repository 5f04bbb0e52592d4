package sim_test

import (
	"testing"

	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/sim/toy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixedDriver checks a "gone" flag, set by unplug under the device mutex
// before it frees the device.
func fixedDriver(s *sim.Sim) {
	dev := s.Alloc("usb_dev")
	mu := kernel.NewMutex(s, "dev_lock")
	gone := false
	s.Go("reader", func() {
		s.CondResched("before read")
		mu.Lock()
		if !gone {
			dev.Access("read")
		}
		mu.Unlock()
	})
	s.Go("unplug", func() {
		mu.Lock()
		gone = true
		mu.Unlock()
		dev.Free()
	})
}

func TestRandomExplorationFindsUseAfterFree(t *testing.T) {
	cfg := sim.ExploreConfig{Mode: sim.Random, Schedules: 50, Config: sim.EnvConfig(t.Name(), 100)}
	res := sim.Explore(cfg, toy.RacyDriver)
	require.True(t, res.Failed(), "50 seeds should find the race")
	f := res.Failure
	assert.Equal(t, sim.BugUseAfterFree, f.Failure.Kind)
	assert.Equal(t, "BUG: KASAN: use-after-free in read", f.Failure.Title)
	assert.Equal(t, "reader", f.Failure.Task)
	assert.Contains(t, f.Failure.Details, "Access (read) to freed object usb_dev (object #1) by task reader")
	assert.Contains(t, f.Failure.Details, "Allocated by task <setup>")
	assert.Contains(t, f.Failure.Details, "Freed by task unplug")
	assert.Contains(t, f.Failure.Details, "toy.RacyDriver.func2 (toy.go:")
	assert.Contains(t, f.String(), "replay: DRVSIM_SEED=")

	// Replaying the seed gives the identical report.
	again := sim.Run(sim.Config{Seed: f.Seed, Test: t.Name()}, toy.RacyDriver)
	assert.Equal(t, f.String(), again.String())
	t.Log("\n" + f.String())
}

func TestExhaustiveFindsUseAfterFree(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, toy.RacyDriver)
	require.True(t, res.Failed())
	assert.Equal(t, sim.BugUseAfterFree, res.Failure.Failure.Kind)
	assert.Equal(t, []string{"reader", "unplug", "reader"}, res.Failure.Schedule())
	assert.Equal(t, 2, res.Schedules)
}

func TestFixedDriverPassesExhaustiveSearch(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, fixedDriver)
	require.False(t, res.Failed(), res.String())
	assert.True(t, res.Exhausted)
	assert.Equal(t, 10, res.Schedules)
	assert.Equal(t, "explore (exhaustive): 10 schedules, space exhausted, no failure\n", res.String())
}

func TestDoubleFree(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		buf := s.Alloc("buf")
		s.Go("a", func() { buf.Free() })
		s.Go("b", func() { buf.Free() })
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugDoubleFree, r.Failure.Kind)
	assert.Equal(t, "BUG: KASAN: double-free in kfree buf", r.Failure.Title)
	assert.Contains(t, r.Failure.Details, "First freed by task")
}

func TestSimMemoryOutsideRunPanics(t *testing.T) {
	s := sim.New(sim.Config{})
	o := s.Alloc("early")
	o.Free()
	assert.PanicsWithError(t, "BUG: KASAN: use-after-free in poke", func() { o.Access("poke") })
}

func TestUseAfterFreeInSetupCode(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		o := s.Alloc("x")
		o.Free()
		o.Access("setup read")
		t.Error("not reached: the setup code is unwound")
	})
	require.True(t, r.Failed())
	assert.Equal(t, "BUG: KASAN: use-after-free in setup read", r.Failure.Title)
	assert.Equal(t, "", r.Failure.Task)
}

func TestLeakChecks(t *testing.T) {
	leaky := func(s *sim.Sim) {
		buf := s.Alloc("rx_buf")
		s.Go("probe", func() { _ = buf })
		s.AddLeakCheck("devres", func() []string { return []string{`action "free_irq" never released`} })
	}
	r := sim.Run(sim.Config{}, leaky)
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugLeak, r.Failure.Kind)
	assert.Equal(t, "BUG: leak: 2 leaked at the end of the run", r.Failure.Title)
	assert.Contains(t, r.Failure.Details, "memory: unreferenced object rx_buf (object #1), allocated by task <setup>")
	assert.Contains(t, r.Failure.Details, "devres: action \"free_irq\" never released\n")

	r = sim.Run(sim.Config{NoMemoryLeakCheck: true}, func(s *sim.Sim) { s.Alloc("kept") })
	assert.False(t, r.Failed(), r.String())
}

package scenario_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/drivers/drmsim/udlsim"
	"github.com/drvsim/drvsim/drivers/drmsim/udlsim/scenario"
	"github.com/drvsim/drvsim/sim"
)

// explore runs FlushVsUnplug for v exhaustively, within maxPre preemptions
// per schedule (0: unbounded).
func explore(t *testing.T, v udlsim.Variant, maxPre int) *sim.ExploreResult {
	t.Helper()
	sc := &scenario.FlushVsUnplug{Variant: v}
	defer sc.Close()
	return sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 1000000, MaxPreemptions: maxPre,
		Config: sim.EnvConfig(t.Name(), 0)}, sc.Scenario)
}

// Every interleaving of a flush with the unplug, within 3 preemptions per
// schedule (701 schedules at the time of writing): the flush finishes or
// fails with -ENODEV, nothing touches freed memory, later ioctls fail,
// the last close frees the drm device, drmm runs after devm.
func TestFlushVsUnplugExhaustive(t *testing.T) {
	for _, v := range []udlsim.Variant{udlsim.Classic, udlsim.Revocable} {
		t.Run(v.String(), func(t *testing.T) {
			res := explore(t, v, 3)
			require.False(t, res.Failed(), res.String())
			assert.True(t, res.Exhausted)
			assert.Greater(t, res.Schedules, 100)
			t.Logf("%s", res) // explore (exhaustive): 701 schedules, space exhausted, no failure
		})
	}
}

// The same without a preemption bound: 35689 schedules per variant, about
// 15 s each, too long for the test suite, so it is a benchmark run on
// demand: go test -run x -bench FullExplore -benchtime 1x ./drivers/drmsim/udlsim
// It fails if any interleaving fails, and reports the schedules explored.
func BenchmarkFullExploreFlushVsUnplug(b *testing.B) {
	for _, v := range []udlsim.Variant{udlsim.Classic, udlsim.Revocable} {
		b.Run(v.String(), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				sc := &scenario.FlushVsUnplug{Variant: v}
				res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 1000000,
					Config: sim.EnvConfig(b.Name(), 0)}, sc.Scenario)
				sc.Close()
				if res.Failed() || !res.Exhausted {
					b.Fatalf("%s", res)
				}
				b.ReportMetric(float64(res.Schedules), "schedules")
			}
		})
	}
}

// Random schedules of the fixed drivers, a cheap complement.
func TestFlushVsUnplugRandom(t *testing.T) {
	for _, v := range []udlsim.Variant{udlsim.Classic, udlsim.Revocable} {
		sc := &scenario.FlushVsUnplug{Variant: v, Lines: 3}
		res := sim.Explore(sim.ExploreConfig{Mode: sim.Random, Schedules: 200, Config: sim.EnvConfig(t.Name(), 1)}, sc.Scenario)
		sc.Close()
		require.False(t, res.Failed(), res.String())
	}
}

// The driver without drm_dev_enter: the exploration finds a flush writing
// an URB buffer that disconnect's udl_drop_usb freed, reported like KASAN.
func TestBrokenFlushUseAfterFree(t *testing.T) {
	res := explore(t, udlsim.Broken, 0)
	require.True(t, res.Failed(), "the broken driver must be caught")
	f := res.Failure.Failure
	assert.Equal(t, sim.BugUseAfterFree, f.Kind)
	assert.Contains(t, f.Details, "udl urb")
	t.Logf("%s", res)
}

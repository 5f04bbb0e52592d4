package lifecycle_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/lifecycle"
	"github.com/drvsim/drvsim/sim"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// Exhaustive exploration of an asynchronous probe racing device_del: no
// schedule fails, and both endings occur.
func Example() {
	o := &lifecycle.Outcomes{}
	defer o.Close() // stops the Systems' async-probe workers
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, lifecycle.AsyncProbeVsRemoval(o))
	fmt.Print(res)
	fmt.Println(o)
	// Output:
	// explore (exhaustive): 14 schedules, space exhausted, no failure
	// "probed, then unbound by device_del": 7, "skipped: device dead": 7
}

// The scenarios `drvsim explore` lists, with the endings each predicts.
func ExampleScenarios() {
	for _, sc := range lifecycle.Scenarios() {
		fmt.Println(sc.Name, sc.Want.Endings)
	}
	// Output:
	// async-probe-vs-rmmod [probed, then detached by driver_unregister not probed: driver gone]
	// async-attach-vs-rmmod [probed, then detached by driver_unregister]
	// async-probe-vs-unplug [probed, then unbound by device_del skipped: device dead]
	// revocable-readers-vs-unregister [both readers read the registers one reader read the registers, the other got -ENODEV both readers got -ENODEV]
}

// Every scenario explores exhaustively (within its default preemption
// bound, and within 1 and 2) with no failing schedule, and reaches every
// ending it may have and no other.
func TestScenariosExhaustive(t *testing.T) {
	for _, sc := range lifecycle.Scenarios() {
		bounds := []int{sc.Defaults.MaxPreemptions, 1, 2}
		slices.Sort(bounds)
		for _, preemptions := range slices.Compact(bounds) {
			t.Run(fmt.Sprintf("%s/preemptions=%d", sc.Name, preemptions), func(t *testing.T) {
				setup := sc.New()
				defer setup.Close()
				res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: preemptions, Schedules: 100000}, setup.Run)
				require.False(t, res.Failed(), res.String())
				assert.True(t, res.Exhausted, res.String())
				assert.Greater(t, res.Schedules, 1)
				endings := setup.Endings()
				total := 0
				for _, e := range sc.Want.Endings {
					assert.Positive(t, endings[e], "%s: %v", e, endings)
					total += endings[e]
				}
				assert.Equal(t, res.Schedules, total, "every run has one of the scenario's endings: %v", endings)
				assert.Len(t, endings, len(sc.Want.Endings), "%v", endings)
				t.Logf("%s%v", res, endings)
			})
		}
	}
}

// A recorded schedule replays to the same trace and ending.
func TestScenarioReplay(t *testing.T) {
	o := &lifecycle.Outcomes{}
	defer o.Close()
	scenario := lifecycle.AsyncProbeVsUnregister(o)
	for seed := uint64(0); seed < 4; seed++ {
		a := sim.Run(sim.Config{Seed: seed}, scenario)
		require.False(t, a.Failed(), a.String())
		b := sim.Run(sim.Config{Replay: a.Schedule()}, scenario)
		require.False(t, b.Failed(), b.String())
		assert.Equal(t, a.TraceText(), b.TraceText())
	}
	assert.Len(t, o.Counts(), 2, "four seeds give both endings: %s", o)
}

func TestOutcomes(t *testing.T) {
	var o lifecycle.Outcomes // the zero value is ready
	assert.Zero(t, o.Count(lifecycle.SkippedDeviceDead))
	assert.Empty(t, o.Counts())
	assert.Equal(t, "", o.String())
	o.Close()
	res := sim.Run(sim.Config{}, lifecycle.AsyncProbeVsRemoval(&o))
	require.False(t, res.Failed(), res.String())
	counts := o.Counts()
	counts[lifecycle.SkippedDeviceDead] = 99 // a copy
	assert.Equal(t, 1, o.Count(lifecycle.ProbedThenDeleted)+o.Count(lifecycle.SkippedDeviceDead))
	o.Close()
	o.Close() // idempotent
	assert.Len(t, o.Counts(), 1, "readable after Close")
}

package lifecycle_test

import (
	"fmt"
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

// The registry `drvsim explore` lists.
func ExampleScenarios() {
	for _, sc := range lifecycle.Scenarios() {
		fmt.Println(sc.Name, sc.Endings)
	}
	// Output:
	// async-probe-vs-rmmod [probed, then detached by driver_unregister not probed: driver gone]
	// async-probe-vs-unplug [probed, then unbound by device_del skipped: device dead]
}

// Every scenario, registered or not, explores exhaustively (without and
// with a preemption bound) with no failing schedule, and reaches every
// ending it may have and no other.
func TestScenariosExhaustive(t *testing.T) {
	scenarios := lifecycle.Scenarios()
	scenarios = append(scenarios, lifecycle.Scenario{
		Name:    "async-attach-vs-rmmod",
		Endings: []lifecycle.Ending{lifecycle.ProbedThenDetached, lifecycle.NotProbedDriverGone},
		New:     lifecycle.AsyncAttachVsUnregister,
	})
	for _, sc := range scenarios {
		for _, preemptions := range []int{0, 2} {
			t.Run(fmt.Sprintf("%s/preemptions=%d", sc.Name, preemptions), func(t *testing.T) {
				o := &lifecycle.Outcomes{}
				defer o.Close()
				res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: preemptions}, sc.New(o))
				require.False(t, res.Failed(), res.String())
				assert.True(t, res.Exhausted, res.String())
				assert.Greater(t, res.Schedules, 1)
				total := 0
				for _, e := range sc.Endings {
					assert.Positive(t, o.Count(e), "%s: %s", e, o)
					total += o.Count(e)
				}
				assert.Equal(t, res.Schedules, total, "every run has one of the scenario's endings: %s", o)
				assert.Len(t, o.Counts(), len(sc.Endings), o.String())
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

func TestLookup(t *testing.T) {
	for _, sc := range lifecycle.Scenarios() {
		got, ok := lifecycle.Lookup(sc.Name)
		require.True(t, ok, sc.Name)
		assert.Equal(t, sc.Name, got.Name)
		assert.NotEmpty(t, got.Description)
		assert.NotNil(t, got.New)
	}
	_, ok := lifecycle.Lookup("no-such")
	assert.False(t, ok)
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

package scenarios_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/scenarios"
	"github.com/drvsim/drvsim/sim"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// scenarioName is what a registry key may be: it is typed on command
// lines and kept in file names.
var scenarioName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// The registry's contract: unique names that Lookup finds, in the order
// Names gives; every scenario says what it runs, what it shows and how it
// is explored, and has a constructor.
func TestRegistry(t *testing.T) {
	all := scenarios.All()
	require.NotEmpty(t, all)
	var names []string
	for _, sc := range all {
		assert.Regexp(t, scenarioName, sc.Name)
		assert.NotContains(t, names, sc.Name, "registered twice")
		names = append(names, sc.Name)
		assert.NotEmpty(t, sc.Under, sc.Name)
		assert.NotEmpty(t, sc.Description, sc.Name)
		assert.NotNil(t, sc.New, sc.Name)
		assert.Positive(t, sc.Defaults.Schedules, sc.Name)
		assert.GreaterOrEqual(t, sc.Defaults.MaxPreemptions, 0, sc.Name)
		assert.Contains(t, []sim.Mode{sim.Random, sim.PCT, sim.Exhaustive}, sc.Defaults.Mode, sc.Name)
		if len(sc.Want.Endings) > 0 {
			assert.Empty(t, sc.Want.Bug, "%s: endings are those of passing runs", sc.Name)
		}
		got, ok := scenarios.Lookup(sc.Name)
		require.True(t, ok, sc.Name)
		assert.Equal(t, sc.Description, got.Description)
	}
	assert.Equal(t, names, scenarios.Names())
	_, ok := scenarios.Lookup("no-such-scenario")
	assert.False(t, ok)
	all[0].Name = "changed"
	assert.NotEqual(t, "changed", scenarios.All()[0].Name, "All returns a copy")
}

// Predicted outcomes hold: every registered scenario, explored with its
// default settings, shows the outcome it predicts. A scenario that
// predicts a bug finds that kind of bug within its budget; one that
// predicts none is exhausted within its budget (the whole space, within
// its preemption bound, passes) and reaches each of its endings. With
// DRVSIM_SCHEDULE (a failure's replay hint) each exploration runs that
// one schedule.
func TestPredictedOutcomes(t *testing.T) {
	for _, sc := range scenarios.All() {
		t.Run(sc.Name, func(t *testing.T) {
			cfg := sc.Config()
			cfg.Config = sim.EnvConfig(t.Name(), 1)
			res := sc.Explore(cfg)
			require.NoError(t, sc.Check(res), "%s", res)
			if sc.Want.Bug == "" && cfg.Replay == nil {
				assert.True(t, res.Exhausted, "the default budget covers the whole space: %s", res)
			}
			first, _, _ := strings.Cut(res.String(), "\n")
			if res.Endings != nil {
				first += fmt.Sprintf("; endings %v", res.Endings)
			}
			t.Log(first)
		})
	}
}

// Check compares an outcome with the prediction: the bug found, the
// endings of passing runs, and, for an exhausted search, every ending
// reached.
func TestCheck(t *testing.T) {
	sc, ok := scenarios.Lookup("async-probe-vs-unplug")
	require.True(t, ok)
	res := sc.Explore(sc.Config())
	require.NoError(t, sc.Check(res))
	require.True(t, res.Exhausted)

	for _, tc := range []struct {
		name   string
		change func(r *sim.ScenarioResult)
		err    string
	}{
		{"an ending never reached", func(r *sim.ScenarioResult) {
			delete(r.Endings, sc.Want.Endings[0])
			r.Endings[sc.Want.Endings[1]] = r.Schedules
		}, "the exhausted search never reached \"" + sc.Want.Endings[0] + "\""},
		{"an ending not predicted", func(r *sim.ScenarioResult) { r.Endings["half bound"] = 1 }, "runs ended in ways not predicted: \"half bound\""},
		{"a run with no ending", func(r *sim.ScenarioResult) { r.Schedules++ }, "1 of 15 passing runs ended in none of the predicted ways"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &sim.ScenarioResult{ExploreResult: &sim.ExploreResult{}, Endings: map[string]int{}}
			*r.ExploreResult = *res.ExploreResult
			for e, n := range res.Endings {
				r.Endings[e] = n
			}
			tc.change(r)
			assert.EqualError(t, sc.Check(r), tc.err)
		})
	}

	// Not exhausted: endings not reached are no error.
	short := sc.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 1})
	require.False(t, short.Exhausted)
	assert.Len(t, short.Endings, 1)
	assert.NoError(t, sc.Check(short))

	// A bug where none is predicted, and none where one is.
	broken, ok := scenarios.Lookup("usb-skel-broken")
	require.True(t, ok)
	res = broken.Explore(sim.ExploreConfig{Mode: sim.Random, Schedules: 1, Config: sim.Config{Seed: 2}})
	require.False(t, res.Failed())
	assert.EqualError(t, broken.Check(res), "expected a use-after-free, found no failure")
	res = broken.Explore(broken.Config())
	require.True(t, res.Failed())
	assert.NoError(t, broken.Check(res))
	fixed, ok := scenarios.Lookup("usb-skel-revocable")
	require.True(t, ok)
	assert.EqualError(t, fixed.Check(res), "expected no failure, found a use-after-free")
}

// Every scenario's Setup is its own: two explorations of one scenario at
// the same time (the workers of a parallel explorer) give the serial
// counts.
func TestSetupsAreIndependent(t *testing.T) {
	for _, name := range []string{"usb-skel-revocable", "revocable-readers-vs-unregister"} {
		sc, ok := scenarios.Lookup(name)
		require.True(t, ok)
		serial := sc.Explore(sc.Config())
		results := make([]*sim.ScenarioResult, 2)
		done := make(chan struct{})
		for i := range results {
			go func() {
				defer func() { done <- struct{}{} }()
				results[i] = sc.Explore(sc.Config())
			}()
		}
		<-done
		<-done
		for _, r := range results {
			assert.Equal(t, serial.Schedules, r.Schedules, name)
			assert.Equal(t, serial.Endings, r.Endings, name)
			assert.NoError(t, sc.Check(r), name)
		}
	}
}

// The copied-provider experiment on two designs, as `drvsim explore
// NAME` runs it: explored with its defaults, the merged (and reverted)
// kernel design shows the use-after-free it predicts, drvsim's design
// passes every interleaving.
func ExampleLookup() {
	for _, name := range []string{"merged-copied-provider", "drvsim-copied-provider"} {
		sc, ok := scenarios.Lookup(name)
		if !ok {
			panic("no scenario " + name)
		}
		res := sc.Explore(sc.Config())
		fmt.Printf("%s (%s):\n", sc.Name, sc.Under)
		if res.Failed() {
			r := res.Failure.Failure
			fmt.Printf("  %s (task %s)\n", r.Title, r.Task)
		} else {
			fmt.Printf("  no failure in %d schedules, space exhausted: %v\n", res.Schedules, res.Exhausted)
		}
		fmt.Println("  as predicted:", sc.Check(res) == nil)
	}
	// Output:
	// merged-copied-provider (merged design):
	//   BUG: KASAN: use-after-free in kref_get_unless_zero (task read)
	//   as predicted: true
	// drvsim-copied-provider (drvsim design):
	//   no failure in 26 schedules, space exhausted: true
	//   as predicted: true
}

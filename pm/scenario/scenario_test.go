package scenario_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/pm/scenario"
	"github.com/drvsim/drvsim/sim"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// Every scenario shows its predicted outcome under exhaustive exploration
// with a bound of two preemptions: no failure and every ending reached,
// or the bug predicted.
func TestScenariosHoldPredictions(t *testing.T) {
	for _, sc := range scenario.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			cfg := sc.Config()
			cfg.Config = sim.EnvConfig(t.Name(), 1)
			require.Equal(t, 2, cfg.MaxPreemptions)
			res := sc.Explore(cfg)
			require.NoError(t, sc.Check(res), "%s", res)
			if sc.Want.Bug == "" {
				require.True(t, res.Exhausted, "%s", res)
			}
			t.Logf("%s; endings %v", res.ExploreResult.String()[:60], res.Endings)
		})
	}
}

package scenario_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/of/scenario"
	"github.com/drvsim/drvsim/sim"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// Each scenario, explored exhaustively within two preemptions, shows its
// prediction: the safe ones pass every schedule and reach each predicted
// ending, the unsafe sensor's is caught as a use-after-free.
func TestScenariosHoldTheirPredictions(t *testing.T) {
	for _, sc := range scenario.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			cfg := sc.Config()
			cfg.Config = sim.EnvConfig(t.Name(), 1)
			res := sc.Explore(cfg)
			require.NoError(t, sc.Check(res), "%s", res)
			if sc.Want.Bug == "" {
				require.True(t, res.Exhausted, "%s", res)
			} else {
				require.Contains(t, res.Failure.Failure.Title, "use-after-free in sensor_read")
			}
			t.Logf("%d schedules; endings %v", res.Schedules, res.Endings)
		})
	}
}

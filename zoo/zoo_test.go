package zoo_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/zoo"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// Every reproduced bug's "before" fails with its predicted symptom within
// the default budget, and its "after" passes every schedule of the
// exhaustive search within two preemptions.
func TestPairs(t *testing.T) {
	for _, b := range zoo.Bugs() {
		if !b.Reproduced() {
			continue
		}
		t.Run(b.Name, func(t *testing.T) {
			for _, sc := range []*sim.Scenario{b.Before, b.After} {
				cfg := sc.Config()
				cfg.Config = sim.EnvConfig(t.Name()+"/"+sc.Name, 0)
				res := sc.Explore(cfg)
				require.NoError(t, sc.Check(res), "%s: %s", sc.Name, res)
				if sc == b.After {
					assert.True(t, res.Exhausted, "%s: %s", sc.Name, res)
				}
				t.Logf("%s: %s", sc.Name, res)
			}
		})
	}
}

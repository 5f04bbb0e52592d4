package kernelmodel_test

import (
	"testing"

	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClosedFlawsExhaustive runs the experiments that a kernel design
// survives (a later one closing the flaw, or a per-read form avoiding it)
// over every interleaving, on that design: none fails. The
// floors on the schedules make a lost schedule point show.
func TestClosedFlawsExhaustive(t *testing.T) {
	for _, tc := range []struct {
		name        string
		run         func(*sim.Sim)
		min         int
		preemptions int // 0: unbounded
	}{
		{"merged-shared-provider", kernelmodel.MergedSharedProvider, 1000, 3}, // 69040 schedules unbounded
		{"v8-shared-provider", kernelmodel.V8SharedProvider, 1000, 0},
		{"v10-shared-provider", kernelmodel.V10SharedProvider, 1000, 0},
		{"v8-copied-provider", kernelmodel.V8CopiedProvider, 5, 0},
		{"v10-copied-provider", kernelmodel.V10CopiedProvider, 5, 0},
		{"v8-gpiolib-race", kernelmodel.V8GPIOLib, 10, 0},
		{"v10-gpiolib-race", kernelmodel.V10GPIOLib, 10, 0},
		{"v10-atomic-put", kernelmodel.V10AtomicPut, 20, 0},
		{"v10-kunit-refcount", kernelmodel.V10KUnitRefcount, 1000, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 100000, MaxPreemptions: tc.preemptions,
				Config: sim.EnvConfig(t.Name(), 1)}, tc.run)
			require.False(t, res.Failed(), res.String())
			require.True(t, res.Exhausted, "the whole space must be covered: %s", res)
			assert.GreaterOrEqual(t, res.Schedules, tc.min)
			t.Logf("%s: %s", tc.name, res)
		})
	}
}

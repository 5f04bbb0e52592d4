package kernelmodel_test

import (
	"testing"

	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRegistry checks the contract the command line relies on: unique
// names, a description, and exhaustive exploration agreeing with Want.
func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range kernelmodel.Scenarios() {
		require.False(t, seen[sc.Name], "duplicate %s", sc.Name)
		seen[sc.Name] = true
		assert.NotEmpty(t, sc.Description)
		assert.NotNil(t, sc.Run)
		got, ok := kernelmodel.Lookup(sc.Name)
		require.True(t, ok)
		assert.Equal(t, sc.Name, got.Name)

		res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 100000,
			Config: sim.Config{Test: t.Name()}}, sc.Run)
		if sc.Want == "" {
			assert.False(t, res.Failed(), "%s: %s", sc.Name, res)
			assert.True(t, res.Exhausted, sc.Name)
		} else if assert.True(t, res.Failed(), sc.Name) {
			assert.Equal(t, sc.Want, res.Failure.Failure.Kind, "%s: %s", sc.Name, res)
		}
	}
	assert.Len(t, kernelmodel.Names(), len(seen))
	_, ok := kernelmodel.Lookup("no-such-scenario")
	assert.False(t, ok)
}

package drvsim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/sim"
)

// Runs counts only the endings of runs whose check found nothing wrong,
// keeps every System a run built until Release or Close, and reads the
// same after Close.
func TestRunsCountsEndingsAndClosesSystems(t *testing.T) {
	r := &drvsim.Runs{}
	assert.Empty(t, r.Endings())
	var kept *drvsim.System
	for i := range 3 {
		res := sim.Run(sim.Config{}, func(s *sim.Sim) {
			sys := r.System(s)
			if i == 0 {
				kept = sys
			}
			var bad []string
			if i == 2 {
				bad = []string{"inconsistent"}
			}
			assert.Equal(t, bad, r.End([]string{"first", "other", "other"}[i], bad))
		})
		require.False(t, res.Failed(), res.String())
	}
	assert.Equal(t, map[string]int{"first": 1, "other": 1}, r.Endings(), "the third run's check failed: not counted")
	assert.Equal(t, 1, r.Count("other"))
	assert.Equal(t, `"first": 1, "other": 1`, r.String())
	assert.Equal(t, 3, r.Open())
	r.Release(kept)
	assert.Equal(t, 2, r.Open())
	r.Close()
	r.Close()
	assert.Zero(t, r.Open())
	e := r.Endings()
	e["first"] = 9
	assert.Equal(t, 1, r.Count("first"), "Endings is a copy")
}

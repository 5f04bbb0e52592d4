package kernelmodel_test

import (
	"testing"

	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDrvsimImmuneExhaustive runs both experiments on drvsim's revocable
// over every interleaving: none fails.
func TestDrvsimImmuneExhaustive(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(*sim.Sim)
		min  int // a floor on the schedules, so a lost schedule point shows
	}{
		{"drvsim-shared-handle", kernelmodel.DrvsimSharedHandle, 1000},
		{"drvsim-copied-provider", kernelmodel.DrvsimCopiedProvider, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 100000,
				Config: sim.EnvConfig(t.Name(), 1)}, tc.run)
			require.False(t, res.Failed(), res.String())
			require.True(t, res.Exhausted, "the whole space must be covered: %s", res)
			assert.GreaterOrEqual(t, res.Schedules, tc.min)
			t.Logf("%s: %s", tc.name, res)
		})
	}
}

type ecRegs struct{ val int }

// TestDrvsimCopiedProviderOutlivesHandle shows, without a scheduler, why
// the copied pointer is harmless on drvsim's design: it is a reference to
// a refcounted provider, New on it after Revoke fails with ErrRevoked, and
// the provider is released only when its last Consumer closes.
func TestDrvsimCopiedProviderOutlivesHandle(t *testing.T) {
	p := revocable.NewProvider(nil, &ecRegs{val: 1}, revocable.WithName("ec"))
	c, err := revocable.New(p) // the file's Consumer, opened at open()
	require.NoError(t, err)
	privateData := p // the copied pointer
	assert.Equal(t, 2, p.Refs())

	p.Revoke()
	assert.True(t, privateData.Revoked())
	assert.False(t, privateData.Released(), "the open Consumer keeps the provider alive")
	assert.Equal(t, 1, privateData.Refs())

	_, err = revocable.New(privateData)
	require.ErrorIs(t, err, revocable.ErrRevoked)
	require.ErrorIs(t, c.OrReturn(func(*ecRegs) error { return nil }), revocable.ErrRevoked)

	require.NoError(t, c.Close())
	assert.True(t, privateData.Released())
	assert.Equal(t, 0, privateData.Refs())
	_, err = revocable.New(privateData) // still safe: no freed memory in reach
	require.ErrorIs(t, err, revocable.ErrRevoked)
}

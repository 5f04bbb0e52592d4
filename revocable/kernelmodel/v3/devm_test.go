package v3_test

import (
	"testing"

	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	v3 "github.com/drvsim/drvsim/revocable/kernelmodel/v3"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// TestDevmProviderFreedOnUnbind: the devm variant frees the provider when
// the device's devres list is released; a consumer handle keeps the
// provider memory alive and sees NULL.
func TestDevmProviderFreedOnUnbind(t *testing.T) {
	res := sim.Run(sim.Config{Test: t.Name()}, func(s *sim.Sim) {
		k := klib.New(s)
		dev := devres.NewList("/sys/devices/platform/cros-ec")
		dev.Attach(s.Env())
		regs := k.Kzalloc("ec_regs")
		s.Go("probe_and_unbind", func() {
			rp := v3.DevmRevocableProviderAlloc(k, dev, regs)
			if rp == nil {
				panic("devm_revocable_provider_alloc failed")
			}
			rev := v3.RevocableAlloc(k, rp)
			v3.REVOCABLE(rev, func(res *env.Object) {
				if res != regs {
					panic("res != regs")
				}
			})
			dev.ReleaseAll() // unbind: devm_revocable_provider_free
			v3.REVOCABLE(rev, func(res *env.Object) {
				if res != nil {
					panic("res after unbind")
				}
			})
			v3.RevocableFree(rev) // last reference: the provider is freed
			if !rp.Object().Freed() {
				panic("provider not freed")
			}
			klib.Kfree(regs)
		})
	})
	require.False(t, res.Failed(), res.String())
	assert.Contains(t, res.TraceText(), "revocable_provider_release: kfree(rp)")
}

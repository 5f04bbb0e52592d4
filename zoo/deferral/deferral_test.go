package deferral_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/zoo/deferral"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// Without a race both versions defer a consumer probed before its
// supplier and bind it when the supplier's binding triggers the deferred
// probe; a probe failing otherwise is not deferred.
func TestDeferredUntilSupplierBinds(t *testing.T) {
	for _, v := range []deferral.Variant{deferral.Before, deferral.After} {
		sys := drvsim.NewSystem()
		c, err := deferral.NewCore(sys, v)
		require.NoError(t, err)
		codec := c.NewDevice("codec", &deferral.Driver{Name: "wm8994", Probe: func(*deferral.Device) error { return nil }})
		card := c.NewDevice("sound", &deferral.Driver{Name: "card", Probe: func(*deferral.Device) error {
			if !codec.Bound() {
				return fmt.Errorf("codec: %w", device.ErrProbeDefer)
			}
			return nil
		}})
		broken := c.NewDevice("broken", &deferral.Driver{Name: "broken", Probe: func(*deferral.Device) error { return device.ErrIO }})
		c.Attach(card)
		assert.False(t, card.Bound())
		assert.Equal(t, []string{"sound"}, c.Pending())
		c.Attach(broken)
		assert.Equal(t, []string{"sound"}, c.Pending(), "a failed probe is not deferred")
		c.Attach(codec)
		kernel.SystemWQ(sys).Flush()
		sys.Close() // drains deferwq
		assert.True(t, codec.Bound())
		assert.True(t, card.Bound(), "variant %d: retried after the codec's trigger", v)
		assert.Empty(t, c.Pending())
		assert.False(t, broken.Bound())
	}
}

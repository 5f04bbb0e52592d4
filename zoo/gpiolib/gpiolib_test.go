package gpiolib_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/zoo/gpiolib"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// A consumer reads its line through the chip; once the chip is removed,
// the old core answers 0 after warning that the backing chip is gone and
// the new one -ENODEV; the gpio_device lives until the consumer puts its
// line. Lookups name the line; an unknown provider defers the consumer.
func TestValueThroughChipThenGone(t *testing.T) {
	for _, v := range []gpiolib.Variant{gpiolib.Before, gpiolib.After} {
		sys := drvsim.NewSystem()
		lib := gpiolib.New(sys, v)
		consumer := sys.NewPlatformDevice("keys")
		require.NoError(t, sys.RegisterDevice(consumer))
		_, err := lib.Get(consumer, "reset")
		assert.ErrorIs(t, err, device.ErrProbeDefer)
		mem := sys.Memory().Alloc("chip state")
		gc := &gpiolib.Chip{Label: "sim", Ngpio: 4, Mem: mem, Get: func(_ *gpiolib.Chip, off int) (int, error) { return off, nil }}
		require.NoError(t, lib.AddChip(gc, "data"))
		assert.Equal(t, "data", gc.Data())
		assert.ErrorIs(t, lib.AddChip(&gpiolib.Chip{Label: "bad"}, nil), device.ErrInvalid)
		lib.AddLookup("reset", "sim", 3)
		lib.AddLookup("oob", "sim", 9)
		_, err = lib.Get(consumer, "oob")
		assert.ErrorIs(t, err, device.ErrInvalid)
		desc, err := lib.Get(consumer, "reset")
		require.NoError(t, err)
		val, err := desc.GetValue()
		require.NoError(t, err)
		assert.Equal(t, 1, val)

		lib.RemoveChip(gc)
		mem.Free()
		val, err = desc.GetValue()
		if v == gpiolib.Before {
			require.NoError(t, err)
			assert.Equal(t, 0, val)
			assert.Contains(t, sys.Log().String(), "gpiod_get_value: backing chip is gone")
		} else {
			assert.ErrorIs(t, err, device.ErrNoDevice)
		}
		assert.Contains(t, sys.Log().String(), "REMOVING GPIOCHIP WITH GPIOS STILL REQUESTED")
		desc.Put()
		assert.Empty(t, sys.Memory().Reports())
		assert.Empty(t, sys.Memory().Leaks(), "gpiodev_release freed the gpio_device")
		sys.Close()
	}
}

package appleir_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/hidsim"
	"github.com/drvsim/drvsim/drivers/inputsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/zoo/appleir"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func remote(fn usbsim.Function) *usbsim.Gadget {
	return &usbsim.Gadget{
		Desc: usbsim.DeviceDescriptor{VendorID: appleir.VendorApple, ProductID: appleir.IRControl},
		Config: usbsim.ConfigDescriptor{Value: 1, Interfaces: []usbsim.InterfaceDescriptor{{Class: 3,
			Endpoints: []usbsim.EndpointDescriptor{{Address: usbsim.DirIn | 2, Type: usbsim.Interrupt, MaxPacket: 5}}}}},
		Function: fn,
	}
}

func key(code, value int) []inputsim.Event {
	return []inputsim.Event{{Type: inputsim.EvKey, Code: code, Value: value}, {Type: inputsim.EvSyn}}
}

// Both versions turn a key-down report into a key press, a repeat into
// another press re-arming the timer, and the timer's expiry, 1/8 s after
// the last report, into the key-up; a second key takes the first one up.
// Removing the driver with the timer armed is clean in both when nothing
// runs meanwhile: the old version's window needs the timer to fire
// between hid_hw_stop and del_timer_sync.
func TestKeysAndKeyUpTimer(t *testing.T) {
	for _, v := range []appleir.Variant{appleir.Before, appleir.After} {
		sys := drvsim.NewSystem()
		u, err := usbsim.Init(sys)
		require.NoError(t, err)
		hcd, err := u.AddHCD(2)
		require.NoError(t, err)
		h, err := hidsim.Init(u)
		require.NoError(t, err)
		drv := appleir.Driver(v)
		configured := drv.InputConfigured
		var input *inputsim.Dev
		drv.InputConfigured = func(hd *hidsim.Device, in *inputsim.Dev) error {
			input = in
			return configured(hd, in)
		}
		require.NoError(t, h.RegisterDriver(drv))
		reports := &hidsim.Reports{}
		udev, err := hcd.RootHub().Plug(1, remote(reports))
		require.NoError(t, err)
		require.NotNil(t, input, "variant %d", v)
		send := func(r []byte) {
			reports.Push(r)
			udev.Kick()
			require.Equal(t, 1, hcd.Flush())
		}

		send(appleir.KeyDown(1))
		assert.Equal(t, key(appleir.KeyMenu, 1), input.Events())
		sys.Env().Advance(appleir.KeyUpDelay / 2)
		send(appleir.KeyRepeat())
		sys.Env().Advance(appleir.KeyUpDelay / 2)
		assert.Len(t, input.Events(), 4, "the repeat re-armed the timer")
		sys.Env().Advance(appleir.KeyUpDelay / 2)
		want := append(append(key(appleir.KeyMenu, 1), key(appleir.KeyMenu, 1)...), key(appleir.KeyMenu, 0)...)
		assert.Equal(t, want, input.Events())

		send(appleir.KeyDown(5))
		send(appleir.KeyDown(6))
		want = append(want, key(appleir.KeyVolumeUp, 1)...)
		want = append(want, key(appleir.KeyVolumeUp, 0)...)
		want = append(want, key(appleir.KeyVolumeDown, 1)...)
		assert.Equal(t, want, input.Events())

		require.NoError(t, h.UnregisterDriver(drv)) // the timer still armed
		assert.True(t, input.Object().Freed())
		sys.Env().Advance(appleir.KeyUpDelay)
		assert.Empty(t, sys.Memory().Reports(), "variant %d", v)
		assert.Empty(t, sys.Memory().Leaks(), "variant %d", v)
		sys.Close()
	}
}

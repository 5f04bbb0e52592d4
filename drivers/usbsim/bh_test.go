package usbsim_test

import (
	"testing"

	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On a controller completing in a bottom half (HCD_BH), the unplug's
// usb_hcd_flush_endpoint unlinks the URB still queued but does not run its
// completion: the driver's disconnect returns first, and the completion
// (-ESHUTDOWN) runs at the next pass of the bottom half. Without HCD_BH the
// flush runs it before disconnect.
func TestGivebackBHAfterDisconnect(t *testing.T) {
	for _, bh := range []bool{false, true} {
		t.Run(map[bool]string{false: "irq", true: "bh"}[bh], func(t *testing.T) {
			_, u, h := newUSB(t)
			h.SetGivebackBH(bh)
			var d intDriver
			var atDisconnect int
			drv := d.driver(u)
			drv.Disconnect = func(*usbsim.Interface) { atDisconnect = len(d.got()) }
			require.NoError(t, u.Register(drv))
			dev, err := h.RootHub().Plug(1, intGadget(usbsim.NewLoopback(0)))
			require.NoError(t, err)
			require.NoError(t, dev.Disconnect())
			if !bh {
				assert.Equal(t, 1, atDisconnect, "the flush ran the completion before disconnect")
				assert.Equal(t, 0, h.Pending())
				return
			}
			assert.Equal(t, 0, atDisconnect, "the completion waits for the bottom half")
			assert.Equal(t, 1, h.Pending())
			assert.True(t, d.urb.InFlight())
			assert.Equal(t, 1, h.Flush())
			assert.Equal(t, []error{usbsim.ErrShutdown}, d.got())
			assert.False(t, d.urb.InFlight())
			assert.Empty(t, u.Memory().Reports())
		})
	}
}

// usb_kill_urb on a controller with HCD_BH still returns only once the
// URB's completion has run, a finished URB's included.
func TestGivebackBHKillWaits(t *testing.T) {
	_, u, h := newUSB(t)
	h.SetGivebackBH(true)
	var d intDriver
	require.NoError(t, u.Register(d.driver(u)))
	_, err := h.RootHub().Plug(1, intGadget(usbsim.FunctionFunc(func(t *usbsim.Transfer) bool {
		t.Actual = len(t.Data)
		return true // the interrupt comes at once
	})))
	require.NoError(t, err)
	require.Equal(t, 1, h.Pending())
	d.urb.Kill()
	assert.Equal(t, []error{nil}, d.got())
	assert.Equal(t, 0, h.Pending())
}

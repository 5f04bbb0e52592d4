package usbsim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/env"
)

// With SetCheckedDevices, a device enumerated afterwards has its struct
// usb_device in the machine's memory, freed at its last put_device: an
// access after the unplug, with no reference held, is a use-after-free;
// one through a reference taken before is not. Devices enumerated before
// the call, or after it is turned off, are not checked.
func TestCheckedDevices(t *testing.T) {
	sys, u, h := newUSB(t)
	mem := sys.Memory()
	plug := func(port int) *usbsim.Device {
		d, err := h.RootHub().Plug(port, usbsim.BulkGadget(0x1234, 0x5678, 64, usbsim.NewLoopback(0)))
		require.NoError(t, err)
		return d
	}

	d := plug(1)
	assert.Nil(t, d.Object(), "off by default")
	d.Access("unchecked")
	u.SetCheckedDevices(true)
	assert.Nil(t, h.RootHub().Object(), "the root hub was enumerated before")

	d2 := plug(2)
	require.NotNil(t, d2.Object())
	assert.Equal(t, "struct usb_device 1-2", d2.Object().Name())
	require.NoError(t, h.RootHub().Unplug(2))
	assert.True(t, d2.Dev().Released())
	assert.True(t, d2.Object().Freed(), "usb_release_dev frees it")
	d2.Access("driver: dev_dbg(&dev->udev->dev)")
	reps := mem.Reports()
	require.Len(t, reps, 1)
	assert.Equal(t, env.BugUseAfterFree, reps[0].Kind)
	assert.Equal(t, "BUG: KASAN: use-after-free in driver: dev_dbg(&dev->udev->dev)", reps[0].Title)

	d3 := plug(3)
	d3.Dev().Get() // usb_get_dev
	require.NoError(t, h.RootHub().Unplug(3))
	assert.False(t, d3.Object().Freed(), "the reference keeps it")
	d3.Access("driver: dev_dbg(&dev->udev->dev)")
	require.NoError(t, d3.Dev().Put()) // usb_put_dev: the last one
	assert.True(t, d3.Object().Freed())
	assert.Len(t, mem.Reports(), 1, "no access after the put")

	u.SetCheckedDevices(false)
	d4 := plug(4)
	assert.Nil(t, d4.Object())
	require.NoError(t, h.RootHub().Unplug(1))
	require.NoError(t, h.RootHub().Unplug(4))
	assert.Empty(t, mem.Leaks())
}

package usbsim_test

import (
	"testing"

	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A suspended device takes no URBs: usb_suspend_both clears can_submit
// and flushes every endpoint (usb_hcd_flush_endpoint: what is queued is
// given back with -ESHUTDOWN), and usb_hcd_link_urb_to_ep refuses new
// submissions with -EHOSTUNREACH, after the controller mapped the buffer.
// usb_resume_both sets can_submit again.
func TestSuspendStopsSubmissions(t *testing.T) {
	sys, u, h := newUSB(t)
	var d intDriver
	require.NoError(t, u.Register(d.driver(u)))
	dev, err := h.RootHub().Plug(1, intGadget(usbsim.NewLoopback(0))) // the interrupt never comes
	require.NoError(t, err)
	require.True(t, d.urb.InFlight())

	seq := sys.Log().Seq()
	require.NoError(t, dev.Suspend())
	assert.Equal(t, []error{usbsim.ErrShutdown}, d.got(), "the queued URB is given back")
	assert.False(t, d.urb.InFlight())
	assert.Subset(t, usbEvents(sys, seq), []string{
		"usb_hcd_flush_endpoint /sys/devices/usb1/1-1: ep83: 1 URB(s)",
		"usb_hcd_giveback_urb /sys/devices/usb1/1-1: urb 1 ep83 status=-ESHUTDOWN actual=0",
	})

	d.urb.Buffer = u.AllocBuffer("suspended buffer", 8)
	assert.ErrorIs(t, d.urb.Submit(), usbsim.ErrHostUnreach)
	_, err = dev.BulkMsg(0, usbsim.NewBuffer(nil), 0, 0)
	assert.ErrorIs(t, err, usbsim.ErrHostUnreach, "ep0 too")

	require.NoError(t, dev.Resume())
	require.NoError(t, d.urb.Submit())
	assert.True(t, d.urb.InFlight())
	require.NoError(t, dev.Disconnect())
	assert.Equal(t, []error{usbsim.ErrShutdown, usbsim.ErrShutdown}, d.got())
	assert.Empty(t, u.Memory().Reports())
}

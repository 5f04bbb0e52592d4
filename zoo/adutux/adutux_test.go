package adutux_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/hidsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/trace"
	"github.com/drvsim/drvsim/zoo/adutux"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// machine is an ADU100 on port 1 of a root hub whose usb_devices are
// checked allocations, the adutux driver in variant v bound.
func machine(t *testing.T, v adutux.Variant) (*drvsim.System, *usbsim.HCD, *usbsim.Device, *hidsim.Reports) {
	t.Helper()
	sys := drvsim.NewSystem()
	u, err := usbsim.Init(sys)
	require.NoError(t, err)
	h, err := u.AddHCD(2)
	require.NoError(t, err)
	u.SetCheckedDevices(true)
	require.NoError(t, u.Register(adutux.New(v, u)))
	reports := &hidsim.Reports{}
	udev, err := h.RootHub().Plug(1, adutux.Gadget(reports))
	require.NoError(t, err)
	return sys, h, udev, reports
}

// debug returns the dev_dbg lines logged since seq.
func debug(sys *drvsim.System, seq uint64) []string {
	var out []string
	for _, e := range sys.Log().Since(seq) {
		if e.Kind == kernel.KindPrintk && e.Func == "dev_dbg" {
			out = append(out, e.Msg)
		}
	}
	return out
}

// Both versions let one process open the device, take its interrupt-in
// reports, stop the read URB at the last close, and free the state when
// the device goes: in the normal order (close, then unplug) the
// usb_device outlives every use.
func TestOpenReportCloseUnplug(t *testing.T) {
	for _, v := range []adutux.Variant{adutux.Before, adutux.After} {
		sys, h, udev, reports := machine(t, v)
		f, err := chardev.Open(sys, "/dev/adutux0")
		require.NoError(t, err)
		_, err = chardev.Open(sys, "/dev/adutux0")
		assert.ErrorIs(t, err, usbsim.ErrBusy, "one opener at a time")

		seq := sys.Log().Seq()
		reports.Push([]byte{'1', '2', '3'})
		udev.Kick()
		assert.Equal(t, 1, h.Flush())
		assert.Contains(t, debug(sys, seq), "adu_interrupt_in_callback reading  3")

		seq = sys.Log().Seq()
		require.NoError(t, f.Close())
		assert.Equal(t, []string{"adu_release_internal : open count 0"}, debug(sys, seq))
		require.NoError(t, h.RootHub().Unplug(1))
		assert.True(t, udev.Object().Freed())
		assert.Empty(t, sys.Memory().Reports(), "variant %d", v)
		assert.Empty(t, sys.Memory().Leaks(), "variant %d", v)
		sys.Close()
	}
}

// Unplugged with the file open: the old driver holds no reference on the
// usb_device, which the USB core's last put_device frees, and the close
// prints through the stale pointer (KASAN); the new one holds it until
// the state goes with the close.
func TestCloseAfterUnplug(t *testing.T) {
	for _, v := range []adutux.Variant{adutux.Before, adutux.After} {
		sys, _, udev, _ := machine(t, v)
		f, err := chardev.Open(sys, "/dev/adutux0")
		require.NoError(t, err)
		require.NoError(t, udev.Disconnect())
		assert.Equal(t, v == adutux.Before, udev.Object().Freed(), "variant %d", v)
		_, err = chardev.Open(sys, "/dev/adutux0")
		assert.Error(t, err, "the node is gone")

		require.NoError(t, f.Close())
		reports := sys.Memory().Reports()
		if v == adutux.Before {
			require.Len(t, reports, 1)
			assert.Equal(t, env.BugUseAfterFree, reports[0].Kind)
			assert.Equal(t, "BUG: KASAN: use-after-free in adu_release_internal: dev_dbg(&dev->udev->dev)", reports[0].Title)
			assert.Contains(t, reports[0].Details, "freed object struct usb_device 1-1")
		} else {
			assert.Empty(t, reports)
		}
		warns := trace.Filter(sys.Log().Events(), func(e trace.Event) bool { return e.Kind == trace.Warn })
		assert.Len(t, warns, len(reports), "variant %d: the report's splat, nothing else", v)
		assert.True(t, udev.Object().Freed())
		assert.Empty(t, sys.Memory().Leaks(), "variant %d: adu_delete freed the state", v)
		sys.Close()
	}
}

package ldusb_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/hidsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/zoo/ldusb"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// machine is a CASSY on port 1 of a root hub, the ldusb driver in
// variant v bound; with bh the controller gives URBs back in a bottom
// half (HCD.Flush).
func machine(t *testing.T, v ldusb.Variant, bh bool) (*drvsim.System, *usbsim.HCD, *usbsim.Device, *hidsim.Reports) {
	t.Helper()
	sys := drvsim.NewSystem()
	u, err := usbsim.Init(sys)
	require.NoError(t, err)
	h, err := u.AddHCD(2)
	require.NoError(t, err)
	h.SetGivebackBH(bh)
	require.NoError(t, u.Register(ldusb.New(v, u)))
	reports := &hidsim.Reports{}
	udev, err := h.RootHub().Plug(1, ldusb.Gadget(reports))
	require.NoError(t, err)
	return sys, h, udev, reports
}

// Both versions let one process open the device, queue its reports in
// the ring buffer for read and poll, answer -ENODEV once the driver is
// unbound under the open file, and free everything at the close.
func TestOpenReadUnbindClose(t *testing.T) {
	for _, v := range []ldusb.Variant{ldusb.Before, ldusb.After} {
		sys, h, udev, reports := machine(t, v, false)
		f, err := chardev.Open(sys, "/dev/ldusb0")
		require.NoError(t, err)
		_, err = chardev.Open(sys, "/dev/ldusb0")
		assert.ErrorIs(t, err, usbsim.ErrBusy, "one opener at a time")
		mask, err := f.Poll()
		require.NoError(t, err)
		assert.Equal(t, chardev.PollOut|chardev.PollWrNorm, mask)

		reports.Push([]byte{1, 2, 3})
		reports.Push([]byte{4, 5, 6, 7, 8, 9, 10, 11})
		udev.Kick()
		assert.Equal(t, 1, h.Flush(), "the first report; the resubmitted URB gets the second")
		assert.Equal(t, 1, h.Flush())
		mask, _ = f.Poll()
		assert.NotZero(t, mask&chardev.PollIn)
		got, err := f.Read(8)
		require.NoError(t, err)
		assert.Equal(t, []byte{1, 2, 3}, got)
		got, err = f.Read(4)
		require.NoError(t, err)
		assert.Equal(t, []byte{4, 5, 6, 7}, got, "the rest of the report is dropped")

		require.NoError(t, sys.Unbind(udev.Interface(0).Dev()))
		_, err = f.Read(8)
		assert.ErrorIs(t, err, usbsim.ErrNoDevice)
		mask, _ = f.Poll()
		assert.Equal(t, chardev.PollErr|chardev.PollHup, mask)
		require.NoError(t, f.Close())
		assert.Empty(t, sys.Memory().Reports(), "variant %d", v)
		assert.Empty(t, sys.Memory().Leaks(), "variant %d", v)
		sys.Close()
	}
}

// On a controller completing in a bottom half, a report the hardware
// delivered just before a driver unbind is given back after it: the old
// driver's completion handler prints through the dev->intf its disconnect
// cleared and dereferences NULL; the new one's disconnect runs the
// completion (usb_poison_urb) while the interface is there, and stops it.
func TestGivebackAfterUnbind(t *testing.T) {
	for _, v := range []ldusb.Variant{ldusb.Before, ldusb.After} {
		sys, h, udev, reports := machine(t, v, true)
		reports.Push([]byte{1, 2, 3})
		f, err := chardev.Open(sys, "/dev/ldusb0")
		require.NoError(t, err)
		require.Equal(t, 1, h.Pending(), "the report's giveback waits for the bottom half")

		require.NoError(t, sys.Unbind(udev.Interface(0).Dev()))
		if v == ldusb.Before {
			assert.Equal(t, 1, h.Pending(), "the endpoint flush does not wait for it")
			var crash any
			func() {
				defer func() { crash = recover() }()
				h.Flush()
			}()
			require.NotNil(t, crash, "NULL dereference in the completion handler")
			assert.Contains(t, fmt.Sprint(crash), "nil pointer dereference")
			sys.Close()
			continue
		}
		assert.Zero(t, h.Pending(), "disconnect gave it back")
		_, err = f.Read(8)
		assert.ErrorIs(t, err, usbsim.ErrNoDevice)
		require.NoError(t, f.Close())
		assert.Empty(t, sys.Memory().Reports())
		assert.Empty(t, sys.Memory().Leaks())
		sys.Close()
	}
}

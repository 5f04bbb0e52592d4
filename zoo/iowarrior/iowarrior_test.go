package iowarrior_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/hidsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/zoo/iowarrior"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// Both versions let one process open the device, queue its interrupt
// reports for read and poll, answer -ENODEV once it is unplugged under
// the open file, and free everything at the close.
func TestOpenReadUnplugClose(t *testing.T) {
	for _, v := range []iowarrior.Variant{iowarrior.Before, iowarrior.After} {
		sys := drvsim.NewSystem()
		u, err := usbsim.Init(sys)
		require.NoError(t, err)
		h, err := u.AddHCD(2)
		require.NoError(t, err)
		require.NoError(t, u.Register(iowarrior.New(v, u)))
		reports := &hidsim.Reports{}
		udev, err := h.RootHub().Plug(1, iowarrior.Gadget(reports))
		require.NoError(t, err)
		f, err := chardev.Open(sys, "/dev/usb/iowarrior0")
		require.NoError(t, err)
		_, err = chardev.Open(sys, "/dev/usb/iowarrior0")
		assert.ErrorIs(t, err, usbsim.ErrBusy, "one opener at a time")
		mask, err := f.Poll()
		require.NoError(t, err)
		assert.Zero(t, mask&chardev.PollIn)

		reports.Push([]byte{1, 2, 3, 4})
		udev.Kick()
		assert.Equal(t, 1, h.Flush())
		mask, _ = f.Poll()
		assert.NotZero(t, mask&chardev.PollIn)
		_, err = f.Read(3)
		assert.ErrorIs(t, err, usbsim.ErrInvalid, "not a report's size")
		got, err := f.Read(4)
		require.NoError(t, err)
		assert.Len(t, got, 4)

		require.NoError(t, h.RootHub().Unplug(1))
		_, err = f.Read(4)
		assert.ErrorIs(t, err, usbsim.ErrNoDevice)
		mask, _ = f.Poll()
		assert.Equal(t, chardev.PollErr|chardev.PollHup, mask)
		require.NoError(t, f.Close())
		assert.Empty(t, sys.Memory().Reports())
		assert.Empty(t, sys.Memory().Leaks(), "release freed the state")
		sys.Close()
	}
}

package skelread_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/zoo/skelread"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// read is f.Read(n) while the test plays the host controller's
// interrupt: it gives finished URBs back until the read returns.
func read(f *chardev.File, h *usbsim.HCD, n int) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := f.Read(n)
		ch <- result{b, err}
	}()
	for {
		select {
		case r := <-ch:
			return r.b, r.err
		default:
			h.Flush()
			runtime.Gosched()
		}
	}
}

// openFirstByte builds a machine with the variant v bound to a plugged
// loopback on a 2-port controller, opens /dev/skel0 and reads the
// device's first byte through it.
func openFirstByte(t *testing.T, v skelread.Variant) (*drvsim.System, *usbsim.HCD, *usbsim.Loopback, *usbsim.Device, *chardev.File) {
	t.Helper()
	sys := drvsim.NewSystem()
	u, err := usbsim.Init(sys)
	require.NoError(t, err)
	h, err := u.AddHCD(2)
	require.NoError(t, err)
	require.NoError(t, u.Register(skelread.New(v, u)))
	lb := usbsim.NewLoopback(0)
	lb.Feed([]byte{1})
	udev, err := h.RootHub().Plug(1, skelread.Gadget(lb))
	require.NoError(t, err)
	f, err := chardev.Open(sys, "/dev/skel0")
	require.NoError(t, err)
	got, err := read(f, h, 8)
	require.NoError(t, err)
	assert.Equal(t, []byte{1}, got)
	return sys, h, lb, udev, f
}

// Both versions read what the device has, starting the next read when
// more was asked and returning without waiting for it; the next read()
// waits for that URB. The close stops the read URB (skel_flush), and the
// state goes with the last reference.
func TestReadStartsNextURB(t *testing.T) {
	for _, v := range []skelread.Variant{skelread.Before, skelread.After} {
		sys, h, lb, udev, f := openFirstByte(t, v)
		lb.Feed([]byte{2, 3})
		udev.Kick()
		got, err := read(f, h, 8)
		require.NoError(t, err)
		assert.Equal(t, []byte{2, 3}, got)
		assert.ErrorIs(t, f.Close(), usbsim.ErrIO, "skel_flush killed the next read URB: its -ENOENT")
		require.NoError(t, h.RootHub().Unplug(1))
		assert.Empty(t, sys.Memory().Reports(), "variant %d", v)
		assert.Empty(t, sys.Memory().Leaks(), "variant %d", v)
		sys.Close()
	}
}

// An unbind with the file open and the next read URB in flight: on a
// controller completing in its interrupt, the core's endpoint flush gives
// the URB back before disconnect (and the fixed disconnect kills it
// anyway); read answers -ENODEV, and the close frees the state.
func TestUnbindUnderOpenFile(t *testing.T) {
	for _, v := range []skelread.Variant{skelread.Before, skelread.After} {
		sys, h, _, udev, f := openFirstByte(t, v)

		require.NoError(t, sys.Unbind(udev.Interface(0).Dev()))
		assert.Zero(t, h.Pending())
		_, err := f.Read(8)
		assert.ErrorIs(t, err, usbsim.ErrNoDevice)
		assert.Error(t, f.Close(), "the read URB's -ENOENT or -ESHUTDOWN")
		assert.Empty(t, sys.Memory().Reports(), "variant %d", v)
		assert.Empty(t, sys.Memory().Leaks(), "variant %d", v)
		sys.Close()
	}
}

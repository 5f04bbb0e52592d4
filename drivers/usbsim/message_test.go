package usbsim_test

import (
	"testing"
	"time"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// usb_bulk_msg with a timeout, on the machine's virtual clock: a device
// that never answers makes usb_start_wait_urb kill the URB when the
// timeout expires, and the killed URB's -ENOENT becomes -ETIMEDOUT; a
// device that answers in time gives its data; a timeout of 0 waits for
// ever (here: until the unplug terminates the URB, -ESHUTDOWN).
func TestBulkMsgTimeout(t *testing.T) {
	var sys *drvsim.System
	var timedOut, answered, forever error
	var n int
	var timedOutAt, answeredAt time.Duration
	res := sim.Run(sim.Config{}, func(s *sim.Sim) {
		sys = drvsim.NewSystem(drvsim.OnSim(s))
		u, err := usbsim.Init(sys)
		require.NoError(t, err)
		h, err := u.AddHCD(2)
		require.NoError(t, err)
		lb := usbsim.NewLoopback(0)
		dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 64, lb))
		require.NoError(t, err)
		s.Go("reader", func() {
			_, timedOut = dev.BulkMsg(usbsim.DirIn|1, usbsim.NewBuffer(make([]byte, 8)), 0, 2*time.Second)
			timedOutAt = sys.Env().Now()
			buf := usbsim.NewBuffer(make([]byte, 8))
			n, answered = dev.BulkMsg(usbsim.DirIn|1, buf, 0, 2*time.Second)
			answeredAt = sys.Env().Now()
			_, forever = dev.BulkMsg(usbsim.DirIn|1, buf, 0, 0)
		})
		s.Go("device", func() {
			s.Sleep(3 * time.Second) // after the first read gave up
			lb.Feed([]byte("late"))
			dev.Kick()
			s.Sleep(time.Hour)
			if err := dev.Disconnect(); err != nil {
				panic(err)
			}
		})
	})
	defer sys.Close()
	require.False(t, res.Failed(), "%s", res)
	assert.ErrorIs(t, timedOut, usbsim.ErrTimedOut)
	assert.Equal(t, 2*time.Second, timedOutAt)
	require.NoError(t, answered)
	assert.Equal(t, 4, n)
	assert.Equal(t, 3*time.Second, answeredAt)
	assert.ErrorIs(t, forever, usbsim.ErrShutdown, "timeout 0: no timeout")
	var got []string
	for _, e := range trace.Filter(res.Events, trace.OfKind(usbsim.KindURB)) {
		if e.Func == "usb_kill_urb" || e.Func == "usb_start_wait_urb" {
			got = append(got, e.Short())
		}
	}
	assert.Equal(t, []string{
		"usb_kill_urb /sys/devices/usb1/1-1: urb 1 ep81",
		"usb_start_wait_urb /sys/devices/usb1/1-1: urb 1 ep81 timed out on ep1in len=0/8",
	}, got)
}

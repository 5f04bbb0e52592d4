package skel_test

import (
	"errors"
	"testing"
	"time"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

var correct = []skel.Variant{skel.Classic, skel.Revocable}

func newRig(t *testing.T, v skel.Variant) *scenario.Rig {
	t.Helper()
	r, err := scenario.NewRig(v, drvsim.NewSystem())
	require.NoError(t, err)
	t.Cleanup(r.Close)
	return r
}

func count(log *trace.Log, fn string) int {
	return len(trace.Filter(log.Events(), func(e trace.Event) bool { return e.Func == fn }))
}

// Scenario 1: plugging the device binds the interface by id table and the
// file appears; it reads back what was written (loopback) and answers the
// ioctl.
func TestPlugBindsAndFileAppears(t *testing.T) {
	for _, v := range skel.Variants {
		t.Run(string(v), func(t *testing.T) {
			r := newRig(t, v)
			assert.False(t, r.USB.MinorTaken(skel.MinorBase))
			_, ok := r.Sys.LookupDevNode("/dev/skel0")
			assert.False(t, ok)
			dev, err := r.Plug(1, usbsim.NewLoopback(0))
			require.NoError(t, err)
			intf := dev.Interface(0)
			assert.Equal(t, string(v), intf.Dev().DriverName())
			assert.Equal(t, skel.MinorBase, intf.Minor())
			require.True(t, r.USB.MinorTaken(skel.MinorBase))
			node, ok := r.Sys.LookupDevNode("/dev/skel0")
			require.True(t, ok, "usb_register_dev's device_create made the node")
			assert.Equal(t, "180:192", node.Devt.String())
			assert.Equal(t, intf.Path()+"/usbmisc/skel0", node.Dev.Path())
			assert.Same(t, node.Dev, intf.ClassDev())

			f, err := chardev.Open(r.Sys, "/dev/skel0")
			require.NoError(t, err)
			assert.Equal(t, "/dev/skel0", f.Path())
			assert.Equal(t, skel.MinorBase, f.Minor())
			n, err := f.Write([]byte("ping"))
			require.NoError(t, err)
			assert.Equal(t, 4, n)
			r.HCD.Flush() // the write URB's completion frees its buffer
			b, err := f.Read(64)
			require.NoError(t, err)
			assert.Equal(t, "ping", string(b))
			sz, err := f.Ioctl(skel.IoctlBulkInSize, nil)
			require.NoError(t, err)
			assert.Equal(t, 64, sz)
			_, err = f.Ioctl(0x1234, nil)
			assert.ErrorIs(t, err, chardev.ErrNoTTY)
			require.NoError(t, f.Close())
			require.NoError(t, dev.Disconnect())
			_, ok = r.Sys.LookupDevNode("/dev/skel0")
			assert.False(t, ok, "usb_deregister_dev's device_destroy removed the node")
			assert.Nil(t, r.USB.Class(), "the last usb_deregister_dev destroyed the usbmisc class")
			assert.Empty(t, r.USB.Memory().Live(), "everything freed")
			assert.Empty(t, r.USB.Memory().Reports())
		})
	}
}

// Scenario 2 on plain goroutines: a read in flight when the device is
// unplugged returns -ENODEV (its URB terminated with -ESHUTDOWN); the
// disconnect waits for it; later read, write and ioctl return -ENODEV;
// the release after the disconnect frees the state exactly once.
func TestReadInFlightAtUnplug(t *testing.T) {
	for _, v := range correct {
		t.Run(string(v), func(t *testing.T) {
			r := newRig(t, v)
			dev, err := r.Plug(1, usbsim.NewLoopback(0))
			require.NoError(t, err)
			f, err := chardev.Open(r.Sys, "/dev/skel0")
			require.NoError(t, err)
			done := make(chan error, 1)
			go func() {
				_, err := f.Read(16)
				done <- err
			}()
			// wait until the read's URB is queued
			waitFor(t, func() bool { return count(r.Log(), "usb_submit_urb") == 1 })
			require.NoError(t, dev.Disconnect())
			err = <-done
			assert.ErrorIs(t, err, usbsim.ErrNoDevice)
			assert.Contains(t, err.Error(), "-ESHUTDOWN")

			_, err = f.Read(16)
			assert.ErrorIs(t, err, usbsim.ErrNoDevice)
			_, err = f.Write([]byte("x"))
			assert.ErrorIs(t, err, usbsim.ErrNoDevice)
			_, err = f.Ioctl(skel.IoctlBulkInSize, nil)
			assert.ErrorIs(t, err, usbsim.ErrNoDevice)
			require.NoError(t, f.Close())
			assert.Empty(t, r.USB.Memory().Live(), "state freed")
			assert.Empty(t, r.USB.Memory().Reports(), "freed exactly once, never touched after")
			if v == skel.Classic {
				assert.Equal(t, 1, count(r.Log(), "skel_delete"))
			} else {
				assert.Equal(t, 1, count(r.Log(), "revocable_provider_release"))
			}
		})
	}
}

// Scenario 3 on plain goroutines: after unplug the node is gone (open of
// the path: -ENOENT) and the minor is free (open of the number, as through
// a node made with mknod: usb_open's -ENODEV).
func TestOpenAfterUnplug(t *testing.T) {
	for _, v := range skel.Variants {
		t.Run(string(v), func(t *testing.T) {
			r := newRig(t, v)
			dev, err := r.Plug(1, usbsim.NewLoopback(0))
			require.NoError(t, err)
			require.NoError(t, dev.Disconnect())
			_, err = chardev.Open(r.Sys, "/dev/skel0")
			assert.ErrorIs(t, err, chardev.ErrNoEntry)
			_, err = r.OpenMinor(0)
			assert.ErrorIs(t, err, usbsim.ErrNoDevice)
			assert.Empty(t, r.USB.Memory().Live())
		})
	}
}

// Scenario 6: re-plugging the same device gives a new binding with new
// state on the same minor; the old file handle still reports -ENODEV, and
// its release frees only the old state.
func TestReplug(t *testing.T) {
	for _, v := range correct {
		t.Run(string(v), func(t *testing.T) {
			r := newRig(t, v)
			lb := usbsim.NewLoopback(0)
			dev, err := r.Plug(1, lb)
			require.NoError(t, err)
			old, err := chardev.Open(r.Sys, "/dev/skel0")
			require.NoError(t, err)
			require.NoError(t, dev.Disconnect())

			dev2, err := r.Plug(1, lb)
			require.NoError(t, err)
			assert.NotSame(t, dev, dev2)
			assert.Equal(t, 3, dev2.Devnum(), "a new device number")
			f, err := chardev.Open(r.Sys, "/dev/skel0")
			require.NoError(t, err)
			_, err = f.Write([]byte("new"))
			require.NoError(t, err)
			r.HCD.Flush()
			b, err := f.Read(8)
			require.NoError(t, err)
			assert.Equal(t, "new", string(b))

			_, err = old.Read(8)
			assert.ErrorIs(t, err, usbsim.ErrNoDevice)
			require.NoError(t, old.Close())
			// the new binding is untouched by the old release
			_, err = f.Ioctl(skel.IoctlBulkInSize, nil)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			require.NoError(t, dev2.Disconnect())
			assert.Empty(t, r.USB.Memory().Live())
			assert.Empty(t, r.USB.Memory().Reports())
		})
	}
}

// Scenario 7: the revocable skeleton's probe fails after two devm actions
// (the hardware-state free and the provider) because usb_register_dev
// fails: devres undoes both, last in first out, and nothing is left: no
// allocation, no minor, no node, no interface data, the provider revoked
// and released.
func TestProbeFailureLeavesNothing(t *testing.T) {
	res := sim.Run(sim.Config{Faults: []sim.FaultRule{{Point: usbsim.FaultRegisterDev, Nth: 1}}}, func(s *sim.Sim) {
		r, err := scenario.NewRig(skel.Revocable, drvsim.NewSystem(drvsim.OnSim(s)))
		require.NoError(t, err)
		defer r.Close()
		seq := r.Log().Seq()
		dev, err := r.Plug(1, usbsim.NewLoopback(0))
		require.NoError(t, err, "the device itself is fine")
		intf := dev.Interface(0)
		assert.Equal(t, "", intf.Dev().DriverName())
		assert.Equal(t, usbsim.Unbound, intf.Condition())
		assert.Nil(t, intf.Intfdata())
		assert.Equal(t, -1, intf.Minor())
		assert.False(t, r.USB.MinorTaken(skel.MinorBase))
		assert.Empty(t, r.Sys.DevNodes())
		assert.Empty(t, r.USB.Memory().Live())
		assert.True(t, intf.Dev().Devres().Empty())
		got := trace.Shorts(trace.Filter(r.Log().Since(seq), func(e trace.Event) bool {
			return e.Kind == trace.DevresAdd || e.Kind == trace.DevresRelease || e.Func == "revocable_provider_release" ||
				e.Func == "kfree" || e.Func == "usb_register_dev"
		}))
		p := "/sys/devices/usb1/1-1/1-1:1.0"
		assert.Equal(t, []string{
			"devm_add_action " + p + ": skel_free_hw",
			"devm_add_action " + p + ": revocable_provider_revoke skel 1-1:1.0",
			"usb_register_dev " + p + ": injected fault: sim: injected fault at usb_register_dev (hit 1)",
			"devres_release_all " + p + ": 2 actions",
			"devm_action_release " + p + ": revocable_provider_revoke skel 1-1:1.0",
			"revocable_provider_release skel 1-1:1.0: released",
			"devm_action_release " + p + ": skel_free_hw",
			"kfree: bulk_in_buffer (object #2)",
			"kfree: skel hw state (object #1)",
		}, got)
		require.NoError(t, dev.Disconnect())
	})
	require.False(t, res.Failed(), "%s", res)
}

// The broken skeleton on plain goroutines, without a race: its open file
// after an unplug reads -ENODEV. Its bug needs the interleaving that
// scenario.HuntUseAfterFree finds.
func TestBrokenWithoutRace(t *testing.T) {
	r := newRig(t, skel.Broken)
	dev, err := r.Plug(1, usbsim.NewLoopback(0))
	require.NoError(t, err)
	f, err := chardev.Open(r.Sys, "/dev/skel0")
	require.NoError(t, err)
	require.NoError(t, dev.Disconnect())
	_, err = f.Read(4)
	assert.ErrorIs(t, err, usbsim.ErrNoDevice)
	require.NoError(t, f.Close())
	assert.Empty(t, r.USB.Memory().Reports())
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, time.Millisecond)
}

func TestNewUnknownVariant(t *testing.T) {
	r := newRig(t, skel.Classic)
	_, err := skel.New("nope", r.USB)
	assert.True(t, errors.Is(err, usbsim.ErrInvalid))
}

package skel_test

import (
	"errors"
	"testing"
	"time"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/drivers/usbsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/internal/raceexit"
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
			assert.False(t, r.Minors.Registered(skel.MinorBase))
			dev, err := r.Plug(1, usbsim.NewLoopback(0))
			require.NoError(t, err)
			intf := dev.Interface(0)
			assert.Equal(t, string(v), intf.Dev().DriverName())
			assert.Equal(t, skel.MinorBase, intf.Minor())
			require.True(t, r.Minors.Registered(skel.MinorBase))

			f, err := r.Minors.Open(skel.MinorBase)
			require.NoError(t, err)
			assert.Equal(t, "skel0", f.Name())
			n, err := f.Write([]byte("ping"))
			require.NoError(t, err)
			assert.Equal(t, 4, n)
			r.HCD.Flush() // the write URB's completion frees its buffer
			b, err := f.Read(64)
			require.NoError(t, err)
			assert.Equal(t, "ping", string(b))
			sz, err := f.Ioctl(skel.IoctlBulkInSize, 0)
			require.NoError(t, err)
			assert.Equal(t, 64, sz)
			_, err = f.Ioctl(0x1234, 0)
			assert.ErrorIs(t, err, chardev.ErrNotSupported)
			require.NoError(t, f.Release())
			require.NoError(t, dev.Disconnect())
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
			f, err := r.Minors.Open(skel.MinorBase)
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
			assert.ErrorIs(t, err, chardev.ErrNoDevice)
			assert.Contains(t, err.Error(), "-ESHUTDOWN")

			_, err = f.Read(16)
			assert.ErrorIs(t, err, chardev.ErrNoDevice)
			_, err = f.Write([]byte("x"))
			assert.ErrorIs(t, err, chardev.ErrNoDevice)
			_, err = f.Ioctl(skel.IoctlBulkInSize, 0)
			assert.ErrorIs(t, err, chardev.ErrNoDevice)
			require.NoError(t, f.Release())
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

// Scenario 3 on plain goroutines: open after unplug fails with -ENODEV.
func TestOpenAfterUnplug(t *testing.T) {
	for _, v := range skel.Variants {
		t.Run(string(v), func(t *testing.T) {
			r := newRig(t, v)
			dev, err := r.Plug(1, usbsim.NewLoopback(0))
			require.NoError(t, err)
			require.NoError(t, dev.Disconnect())
			_, err = r.Minors.Open(skel.MinorBase)
			assert.ErrorIs(t, err, chardev.ErrNoDevice)
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
			old, err := r.Minors.Open(skel.MinorBase)
			require.NoError(t, err)
			require.NoError(t, dev.Disconnect())

			dev2, err := r.Plug(1, lb)
			require.NoError(t, err)
			assert.NotSame(t, dev, dev2)
			assert.Equal(t, 3, dev2.Devnum(), "a new device number")
			f, err := r.Minors.Open(skel.MinorBase)
			require.NoError(t, err)
			_, err = f.Write([]byte("new"))
			require.NoError(t, err)
			r.HCD.Flush()
			b, err := f.Read(8)
			require.NoError(t, err)
			assert.Equal(t, "new", string(b))

			_, err = old.Read(8)
			assert.ErrorIs(t, err, chardev.ErrNoDevice)
			require.NoError(t, old.Release())
			// the new binding is untouched by the old release
			_, err = f.Ioctl(skel.IoctlBulkInSize, 0)
			require.NoError(t, err)
			require.NoError(t, f.Release())
			require.NoError(t, dev2.Disconnect())
			assert.Empty(t, r.USB.Memory().Live())
			assert.Empty(t, r.USB.Memory().Reports())
		})
	}
}

// Scenario 7: the revocable skeleton's probe fails after two devm actions
// (the hardware-state free and the provider): devres undoes both, last in
// first out, and nothing is left: no allocation, no minor, no interface
// data, the provider revoked and released.
func TestProbeFailureLeavesNothing(t *testing.T) {
	r := newRig(t, skel.Revocable)
	for i := range 16 { // take every minor: usb_register_dev fails with -EXFULL
		_, err := r.Minors.Register("other%d", &chardev.Operations{}, i)
		require.NoError(t, err)
	}
	seq := r.Log().Seq()
	dev, err := r.Plug(1, usbsim.NewLoopback(0))
	require.NoError(t, err, "the device itself is fine")
	intf := dev.Interface(0)
	assert.Equal(t, "", intf.Dev().DriverName())
	assert.Equal(t, usbsim.Unbound, intf.Condition())
	assert.Nil(t, intf.Intfdata())
	assert.Equal(t, -1, intf.Minor())
	assert.Equal(t, 16, r.Minors.Len())
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
		"devm_add_action " + p + ": usb_kill_anchored_urbs",
		"usb_register_dev /dev/usb: skel%d: no free minor: -EXFULL",
		"devres_release_all " + p + ": 3 actions",
		"devm_action_release " + p + ": usb_kill_anchored_urbs",
		"devm_action_release " + p + ": revocable_provider_revoke skel 1-1:1.0",
		"revocable_provider_release skel 1-1:1.0: released",
		"devm_action_release " + p + ": skel_free_hw",
		"kfree: bulk_in_buffer (object #2)",
		"kfree: skel hw state (object #1)",
	}, got)
	require.NoError(t, dev.Disconnect())
}

// The broken skeleton on plain goroutines, without a race: its open file
// after an unplug reads -ENODEV. Its bug needs the interleaving that
// scenario.HuntUseAfterFree finds.
func TestBrokenWithoutRace(t *testing.T) {
	r := newRig(t, skel.Broken)
	dev, err := r.Plug(1, usbsim.NewLoopback(0))
	require.NoError(t, err)
	f, err := r.Minors.Open(skel.MinorBase)
	require.NoError(t, err)
	require.NoError(t, dev.Disconnect())
	_, err = f.Read(4)
	assert.ErrorIs(t, err, chardev.ErrNoDevice)
	require.NoError(t, f.Release())
	assert.Empty(t, r.USB.Memory().Reports())
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, time.Millisecond)
}

func TestNewUnknownVariant(t *testing.T) {
	r := newRig(t, skel.Classic)
	_, err := skel.New("nope", r.USB, r.Minors)
	assert.True(t, errors.Is(err, usbsim.ErrInvalid))
}

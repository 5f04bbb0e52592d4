package bus_test

// The device lock around driver callbacks: a callback that re-enters the
// core for its own device gets -EDEADLK, another goroutine waits.

import (
	"testing"

	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A driver that calls back into the core for its own device while the
// device lock is held gets ErrDeadlock, not a hang.
func TestReentryFromCallbackIsErrDeadlock(t *testing.T) {
	sys := newMachine(t)
	var probeErr, removeErr error
	var dev *device.Device
	drv := platform.NewDriver("selfish", func(d *device.Device) error {
		probeErr = sys.Unbind(d)
		return nil
	}, func(d *device.Device) {
		removeErr = sys.UnregisterDevice(d)
	})
	require.NoError(t, sys.RegisterDriver(drv))
	dev = sys.NewPlatformDevice("selfish")
	require.NoError(t, sys.RegisterDevice(dev))
	require.ErrorIs(t, probeErr, device.ErrDeadlock)
	require.Equal(t, device.StateBound, dev.State())
	seq := sys.Log().Seq()
	require.NoError(t, sys.ReleaseDriver(dev))
	require.ErrorIs(t, removeErr, device.ErrDeadlock)
	assert.Contains(t, since(sys, seq), "device_lock /sys/devices/platform/selfish: possible recursive locking: task already holds the device lock")
	require.Equal(t, device.StateAdded, dev.State())
	require.NoError(t, sys.UnregisterDevice(dev))
}

// Another goroutine's call waits for the lock instead of failing.
func TestDeviceLockContentionWaits(t *testing.T) {
	sys := newMachine(t)
	entered := make(chan struct{})
	release := make(chan struct{})
	drv := platform.NewDriver("slow", func(*device.Device) error {
		close(entered)
		<-release
		return nil
	}, nil)
	require.NoError(t, sys.RegisterDriver(drv))
	dev := sys.NewPlatformDevice("slow")
	done := make(chan error)
	go func() { done <- sys.RegisterDevice(dev) }()
	<-entered
	unbound := make(chan error)
	go func() { unbound <- sys.Unbind(dev) }()
	close(release)
	require.NoError(t, <-done)
	require.NoError(t, <-unbound)
	require.Nil(t, dev.Driver())
}

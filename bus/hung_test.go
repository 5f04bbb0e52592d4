package bus_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
)

// A remove that blocks for ever is reported by the hung-task detector, and
// so is a second unbind waiting for the device lock the first holds, with
// the wait-for chain from the waiter to the blocked remove.
func TestBlockedRemoveIsReported(t *testing.T) {
	e := env.New(env.WithHungTaskTimeout(50*time.Millisecond), env.WithHungTaskPanic(false))
	c, b := newCoreIn(t, e)
	inRemove := make(chan struct{})
	release := make(chan struct{})
	drv := platform.NewDriver("sticky", nil, func(*device.Device) {
		close(inRemove)
		<-release
	})
	require.NoError(t, c.RegisterDriver(drv))
	dev := platform.NewDevice(b, "sticky", device.WithRelease(func(*device.Device) {}))
	require.NoError(t, c.RegisterDevice(dev))

	first := make(chan error, 1)
	go func() { first <- c.Unbind(dev) }()
	<-inRemove
	second := make(chan error, 1)
	go func() { second <- c.ReleaseDriver(dev) }()
	reps := waitReports(t, e, env.BugHung, 2)
	close(release)
	require.NoError(t, <-first)
	require.NoError(t, <-second)

	var remove, lock *env.Report
	for _, r := range reps {
		if strings.Contains(r.Title, "in remove of driver sticky") {
			remove = r
		}
		if strings.Contains(r.Title, "in device_lock on /sys/devices/platform/sticky") {
			lock = r
		}
	}
	require.NotNil(t, remove, "%v", reps)
	require.NotNil(t, lock, "%v", reps)
	assert.Regexp(t, `goroutine \d+ -> \[device_lock on /sys/devices/platform/sticky\] -> goroutine \d+\n  goroutine \d+ -> \[remove of driver sticky on /sys/devices/platform/sticky \(device_remove\)\] \(in driver code\)`, lock.Details)
	require.NoError(t, c.UnregisterDevice(dev))
}

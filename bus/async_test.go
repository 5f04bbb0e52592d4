package bus_test

// Asynchronous probe on real goroutines (dd.c: async_schedule_dev,
// __driver_attach_async_helper); async_sim_test.go has it under the
// explorer.

import (
	"fmt"
	"testing"

	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/internal/golden"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// __driver_attach queues an asynchronous probe only for a device without a
// driver and without an asynchronous probe already pending (dd.c).
func TestAsyncDriverAttachSkipsBoundAndPending(t *testing.T) {
	sys := newMachine(t)
	ids := []driver.ID{{Name: "nic"}}
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "sync", Bus: platform.Name, IDTable: ids}))
	bound := sys.NewPlatformDevice("nic")
	require.NoError(t, sys.RegisterDevice(bound))
	require.Equal(t, "sync", bound.DriverName())
	free := sys.NewPlatformDevice("nic.1")
	free.SetDriverOverride("none")
	require.NoError(t, sys.RegisterDevice(free))
	free.SetDriverOverride("")
	seq := sys.Log().Seq()
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "a", Bus: platform.Name, IDTable: ids, ProbeType: driver.ProbePreferAsynchronous}))
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "b", Bus: platform.Name, IDTable: ids, ProbeType: driver.ProbePreferAsynchronous}))
	golden.Lines(t, "testdata/async-driver-attach.golden", trace.Shorts(trace.Filter(sys.Log().Since(seq), trace.OfKind(trace.ProbeAsync))))
	sys.WaitForProbes()
	assert.Equal(t, "a", free.DriverName())
	assert.Equal(t, "sync", bound.DriverName())
}

// With asynchronous probes run concurrently, all twenty devices bind and
// unbind cleanly.
func TestAsyncConcurrentModeBindsAll(t *testing.T) {
	sys := newMachine(t)
	sys.SetAsyncConcurrent(true)
	drv := &driver.Driver{Name: "nic", Bus: platform.Name, ProbeType: driver.ProbePreferAsynchronous}
	require.NoError(t, sys.RegisterDriver(drv))
	var devs []*device.Device
	for i := range 20 {
		d := sys.NewPlatformDevice(fmt.Sprintf("nic.%d", i))
		require.NoError(t, sys.RegisterDevice(d))
		devs = append(devs, d)
	}
	sys.WaitForProbes()
	for _, d := range devs {
		require.Equal(t, device.StateBound, d.State())
	}
	require.NoError(t, sys.UnregisterDriver(drv))
	for _, d := range devs {
		require.NoError(t, sys.UnregisterDevice(d))
	}
}

// Close drops the asynchronous probes still queued (and their device
// references); later probes run synchronously.
func TestCloseDropsQueuedAsyncProbes(t *testing.T) {
	c, b := newCoreNoCleanup(t)
	sys := &machine{Core: c, Platform: b}
	drv := &driver.Driver{Name: "slow", Bus: platform.Name, ProbeType: driver.ProbePreferAsynchronous}
	require.NoError(t, sys.RegisterDriver(drv))
	dev := sys.NewPlatformDevice("slow")
	require.NoError(t, sys.RegisterDevice(dev))
	require.EqualValues(t, 2, dev.Refs(), "the queued probe holds a reference")
	sys.Close()
	require.EqualValues(t, 1, dev.Refs())
	require.Nil(t, dev.Driver())
	// After Close, probes run synchronously.
	dev2 := sys.NewPlatformDevice("slow.1")
	require.NoError(t, sys.RegisterDevice(dev2))
	require.Equal(t, "slow", dev2.DriverName())
	sys.Close()
}

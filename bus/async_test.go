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

// driver_unregister of an asynchronous driver whose probe is still queued
// (driver_register's driver_attach queued __driver_attach_async_helper):
// driver_detach runs async_synchronize_full first, so the queued probe
// binds the device and driver_detach then unbinds it: probe, remove,
// return. Nothing of the probe runs after driver_unregister returned.
func TestUnregisterDriverRunsQueuedAsyncProbeFirst(t *testing.T) {
	sys := newMachine(t)
	dev := sys.NewPlatformDevice("nic")
	require.NoError(t, sys.RegisterDevice(dev))
	var calls []string
	drv := platform.NewDriver("nic", func(*device.Device) error { calls = append(calls, "probe"); return nil },
		func(*device.Device) { calls = append(calls, "remove") })
	drv.ProbeType = driver.ProbePreferAsynchronous
	require.NoError(t, sys.RegisterDriver(drv)) // queues the probe; the worker waits to be let run
	require.Empty(t, calls)
	seq := sys.Log().Seq()
	require.NoError(t, sys.UnregisterDriver(drv))
	calls = append(calls, "return")
	returned := sys.Log().Seq()
	assert.Equal(t, []string{"probe", "remove", "return"}, calls)
	assert.Nil(t, dev.Driver())
	assert.EqualValues(t, 1, dev.Refs(), "the queued probe's reference is dropped")
	requireInOrder(t, funcs(sys.Log(), seq), "driver_unregister", "async_synchronize_full",
		"__driver_attach_async_helper", "really_probe", "driver_bound", "__device_release_driver", "device_remove")

	sys.WaitForProbes() // the worker has nothing left
	for _, e := range sys.Log().Since(returned) {
		assert.NotContains(t, []string{"__driver_attach_async_helper", "really_probe"}, e.Func,
			"the queued probe ran after driver_unregister returned: %s", e.Short())
	}
}

// requireInOrder requires want to appear in got in that order, other
// entries between them allowed.
func requireInOrder(t *testing.T, got []string, want ...string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	require.Equal(t, len(want), i, "%v not in order in %v (stopped at %q)", want, got, want[min(i, len(want)-1)])
}

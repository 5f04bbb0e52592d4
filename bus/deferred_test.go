package bus_test

// Deferred probe retries (dd.c: deferred_probe_work_func).

import (
	"testing"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deferred_probe_work_func moves each device it retries to the end of the
// device list (device_pm_move_to_tail), so a device that bound late is shut
// down before the supplier it waited for (dd.c).
func TestDeferredRetryMovesDeviceToTail(t *testing.T) {
	sys := newMachine(t)
	var order []string
	sd := func(d *device.Device) { order = append(order, d.Name()) }
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "codec", Bus: platform.Name, Shutdown: sd,
		Probe: func(*device.Device) error {
			if clk := sys.FindDevice(platform.Name, "clk"); clk == nil || clk.State() != device.StateBound {
				return device.ErrProbeDefer
			}
			return nil
		}}))
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "clk", Bus: platform.Name, Shutdown: sd}))
	codec, clk := sys.NewPlatformDevice("codec"), sys.NewPlatformDevice("clk")
	require.NoError(t, sys.RegisterDevice(codec))
	require.NoError(t, sys.RegisterDevice(clk))
	require.Equal(t, device.StateBound, codec.State())
	assert.Equal(t, []*device.Device{clk, codec}, sys.Devices())
	sys.Shutdown()
	assert.Equal(t, []string{"codec", "clk"}, order)
}

// The deferred-probe worker retries through bus_probe_device, which does
// nothing on a bus whose drivers_autoprobe is off.
func TestDeferredRetryHonoursNoAutoprobe(t *testing.T) {
	sys := newMachine(t)
	b := &bus.Bus{Name: "virtio", NoAutoprobe: true}
	require.NoError(t, sys.RegisterBus(b))
	probes := 0
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "blk", Bus: "virtio", Probe: func(*device.Device) error {
		probes++
		return device.ErrProbeDefer
	}}))
	dev := device.New("vda", device.WithBus(b), device.WithRelease(func(*device.Device) {}))
	require.NoError(t, sys.RegisterDevice(dev))
	bound, err := sys.Attach(dev)
	require.NoError(t, err)
	require.False(t, bound)
	require.Equal(t, 1, probes)
	require.Equal(t, []*device.Device{dev}, sys.DeferredDevices())
	sys.FlushDeferred()
	assert.Equal(t, 1, probes, "no automatic retry on a bus without autoprobe")
	require.NoError(t, sys.UnregisterDevice(dev))
}

// A deferred retry goes through device_initial_probe as the first attempt
// did: an asynchronous driver is queued again, not probed inline by the
// deferred worker and then queued a second time.
func TestDeferredRetryOfAsyncDriverIsAsync(t *testing.T) {
	sys := newMachine(t)
	probes := 0
	drv := &driver.Driver{Name: "wlan", Bus: platform.Name, ProbeType: driver.ProbePreferAsynchronous,
		Probe: func(dev *device.Device) error {
			probes++
			if fw := sys.FindDevice(platform.Name, "fw"); fw == nil || fw.State() != device.StateBound {
				return device.ErrProbeDefer
			}
			return nil
		}}
	require.NoError(t, sys.RegisterDriver(drv))
	wlan := sys.NewPlatformDevice("wlan")
	require.NoError(t, sys.RegisterDevice(wlan))
	sys.WaitForProbes()
	require.Equal(t, 1, probes)
	require.Equal(t, []*device.Device{wlan}, sys.DeferredDevices())

	require.NoError(t, sys.RegisterDriver(platform.NewDriver("fw", nil, nil)))
	seq := sys.Log().Seq()
	require.NoError(t, sys.RegisterDevice(sys.NewPlatformDevice("fw")))
	assert.Equal(t, 1, probes, "the deferred worker queues the asynchronous probe instead of running it")
	assert.Contains(t, since(sys, seq), "async_schedule_dev /sys/devices/platform/wlan: scheduling asynchronous probe")
	sys.WaitForProbes()
	assert.Equal(t, 2, probes, "one more probe, not two")
	assert.Equal(t, device.StateBound, wlan.State())
}

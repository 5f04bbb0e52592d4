package bus_test

// device_shutdown.

import (
	"testing"

	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// device_shutdown walks the device list backwards: consumers before
// suppliers, children before parents; afterwards probing is blocked.
func TestShutdownOrder(t *testing.T) {
	sys := newMachine(t)
	var order []string
	sd := func(d *device.Device) { order = append(order, d.Name()) }
	for _, n := range []string{"soc", "i2c", "codec", "amp"} {
		require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: n, Bus: platform.Name, Shutdown: sd}))
	}
	soc := sys.NewPlatformDevice("soc")
	require.NoError(t, sys.RegisterDevice(soc))
	amp := sys.NewPlatformDevice("amp") // registered before its supplier
	require.NoError(t, sys.RegisterDevice(amp))
	i2c := sys.NewPlatformDevice("i2c", device.WithParent(soc))
	require.NoError(t, sys.RegisterDevice(i2c))
	codec := sys.NewPlatformDevice("codec", device.WithParent(i2c))
	require.NoError(t, sys.RegisterDevice(codec))
	_, err := sys.AddLink(amp, codec, device.LinkStateless)
	require.NoError(t, err)
	unbound := sys.NewPlatformDevice("loose")
	require.NoError(t, sys.RegisterDevice(unbound))
	sys.Shutdown()
	assert.Equal(t, []string{"amp", "codec", "i2c", "soc"}, order)
	require.True(t, sys.ProbingBlocked())
}

// device_shutdown waits for outstanding probes before it blocks probing: a
// queued asynchronous probe binds, and its device is shut down.
func TestShutdownWaitsForProbesBeforeBlocking(t *testing.T) {
	sys := newMachine(t)
	shut := 0
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "wifi", Bus: platform.Name,
		ProbeType: driver.ProbePreferAsynchronous, Shutdown: func(*device.Device) { shut++ }}))
	dev := sys.NewPlatformDevice("wifi")
	require.NoError(t, sys.RegisterDevice(dev)) // queued, not run yet
	require.Nil(t, dev.Driver())
	sys.Shutdown()
	assert.Equal(t, "wifi", dev.DriverName())
	assert.Equal(t, 1, shut)
	assert.True(t, sys.ProbingBlocked())
	// From now on every probe defers.
	late := sys.NewPlatformDevice("wifi.1")
	require.NoError(t, sys.RegisterDevice(late))
	sys.WaitForProbes()
	assert.Nil(t, late.Driver())
	assert.Contains(t, sys.DeferredDevices(), late)
}

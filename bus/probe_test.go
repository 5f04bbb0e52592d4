package bus_test

// Probe results (dd.c: call_driver_probe, really_probe).

import (
	"testing"

	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// call_driver_probe treats only -ENODEV and -ENXIO as "not mine"; -ENOENT
// is a probe failure like any other.
func TestProbeENOENTIsAFailure(t *testing.T) {
	sys := newMachine(t)
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("fw", func(*device.Device) error { return device.ErrNoEntry }, nil)))
	require.NoError(t, sys.RegisterDevice(sys.NewPlatformDevice("fw")))
	assert.Contains(t, sys.Log().String(), "call_driver_probe /sys/devices/platform/fw: driver=fw ret=-ENOENT: probe failed")
}

// A probe that returns -ENODEV lets the next matching driver try.
func TestNotMineTriesNextDriver(t *testing.T) {
	sys := newMachine(t)
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "first", Bus: platform.Name,
		IDTable: []driver.ID{{Name: "chip", Data: 1}},
		Probe:   func(*device.Device) error { return device.ErrNoDevice }}))
	var data any
	second := &driver.Driver{Name: "second", Bus: platform.Name, IDTable: []driver.ID{{Name: "chip", Data: 2}}}
	second.Probe = func(d *device.Device) error {
		id, _ := platform.ID(d, second)
		data = id.Data
		return nil
	}
	require.NoError(t, sys.RegisterDriver(second))
	dev := sys.NewPlatformDevice("chip.0")
	require.NoError(t, sys.RegisterDevice(dev))
	require.Equal(t, "second", dev.DriverName())
	require.Equal(t, 2, data)
	require.Contains(t, sys.Log().String(), "driver=first ret=-ENODEV: rejects match (not mine)")
}

// driver_attach offers the devices without a driver to the one driver it
// is called for: another driver that matches is not tried.
func TestAttachDriverTriesOnlyThatDriver(t *testing.T) {
	sys := newMachine(t)
	c := sys.DriverCore()
	var probes []string
	refuse := true
	probe := func(name string) func(*device.Device) error {
		return func(*device.Device) error {
			probes = append(probes, name)
			if refuse {
				return device.ErrNoDevice
			}
			return nil
		}
	}
	first := platform.NewDriver("chip", probe("first"), nil)
	second := platform.NewDriver("chip-alt", probe("second"), nil)
	second.IDTable = []driver.ID{{Name: "chip"}}
	require.NoError(t, sys.RegisterDriver(first))
	require.NoError(t, sys.RegisterDriver(second))
	dev := sys.NewPlatformDevice("chip")
	require.NoError(t, sys.RegisterDevice(dev))
	require.Equal(t, []string{"first", "second"}, probes)
	require.Empty(t, dev.DriverName())

	refuse = false
	require.NoError(t, c.AttachDriver(second))
	assert.Equal(t, "chip-alt", dev.DriverName())
	assert.Equal(t, []string{"first", "second", "second"}, probes)

	require.NoError(t, sys.UnregisterDriver(second))
	assert.ErrorIs(t, c.AttachDriver(second), device.ErrNoEntry)
}

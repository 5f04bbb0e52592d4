package bus_test

// Misuse of the driver core's API.

import (
	"testing"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/stretchr/testify/require"
)

// Misuse of the core's API (devices, drivers, bind, buses, links) is
// refused with the kernel's errno and leaves the state as it was.
func TestMisuseRefusedWithStateIntact(t *testing.T) {
	sys := newMachine(t)
	// Registering a device twice.
	dev := sys.NewPlatformDevice("x")
	require.NoError(t, sys.RegisterDevice(dev))
	require.ErrorIs(t, sys.RegisterDevice(dev), device.ErrExist)
	require.ErrorIs(t, sys.AddDevice(dev), device.ErrExist)
	require.Equal(t, device.StateAdded, dev.State())
	require.EqualValues(t, 1, dev.Refs())
	// The same name twice on a bus.
	dup := sys.NewPlatformDevice("x")
	require.ErrorIs(t, sys.RegisterDevice(dup), device.ErrExist)
	require.NoError(t, dup.Put())
	// Adding an uninitialized device.
	require.ErrorIs(t, sys.AddDevice(sys.NewPlatformDevice("y")), device.ErrInvalid)
	// A device without a name.
	noname := sys.NewPlatformDevice("")
	require.ErrorIs(t, sys.RegisterDevice(noname), device.ErrInvalid)
	// Unregistering an unknown device, or twice.
	require.ErrorIs(t, sys.UnregisterDevice(sys.NewPlatformDevice("z")), device.ErrNoDevice)
	require.NoError(t, sys.UnregisterDevice(dev))
	require.ErrorIs(t, sys.UnregisterDevice(dev), device.ErrNoDevice)
	// A device of another core.
	other := newMachine(t)
	od := other.NewPlatformDevice("o")
	require.NoError(t, other.RegisterDevice(od))
	require.ErrorIs(t, sys.UnregisterDevice(od), device.ErrNoDevice)
	require.Nil(t, sys.FindDevice(platform.Name, "o"))
	require.Len(t, other.Devices(), 1)
	// Drivers: no bus, no name, unknown bus, twice, same name.
	require.ErrorIs(t, sys.RegisterDriver(&driver.Driver{Name: "nobus"}), device.ErrInvalid)
	require.ErrorIs(t, sys.RegisterDriver(&driver.Driver{Bus: platform.Name}), device.ErrInvalid)
	require.ErrorIs(t, sys.RegisterDriver(&driver.Driver{Name: "d", Bus: "pci"}), device.ErrInvalid)
	require.ErrorIs(t, sys.RegisterDriver(nil), device.ErrInvalid)
	d := &driver.Driver{Name: "d", Bus: platform.Name} // nil Probe: binds without a call
	require.NoError(t, sys.RegisterDriver(d))
	// driver_find finds the name: -EBUSY, the same driver or another one.
	require.ErrorIs(t, sys.RegisterDriver(d), device.ErrBusy)
	require.ErrorIs(t, sys.RegisterDriver(&driver.Driver{Name: "d", Bus: platform.Name}), device.ErrBusy)
	dd := sys.NewPlatformDevice("d")
	require.NoError(t, sys.RegisterDevice(dd))
	require.Equal(t, device.StateBound, dd.State())
	// Binding an already-bound device.
	require.ErrorIs(t, sys.Bind(dd, "d"), device.ErrBusy)
	// Devres left over before probe: EBUSY and a warning.
	require.NoError(t, sys.Unbind(dd))
	_, err := dd.Devres().Add("leak", func() {})
	require.NoError(t, err)
	err = sys.Bind(dd, "d")
	require.ErrorIs(t, err, device.ErrBusy)
	require.Contains(t, sys.Log().String(), "really_probe /sys/devices/platform/d: Resources present before probing")
	require.Nil(t, dd.Driver())
	// Buses.
	require.ErrorIs(t, sys.RegisterBus(&bus.Bus{}), device.ErrInvalid)
	require.ErrorIs(t, sys.RegisterBus(platform.NewBus()), device.ErrExist)
	require.ErrorIs(t, sys.UnregisterBus(sys.Platform), device.ErrBusy)
	// Links.
	_, err = sys.AddLink(dd, dd, 0)
	require.ErrorIs(t, err, device.ErrInvalid)
	_, err = sys.AddLink(dd, od, 0)
	require.ErrorIs(t, err, device.ErrNoDevice)
}

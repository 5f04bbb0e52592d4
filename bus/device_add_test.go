package bus_test

// device_add and device_del (core.c, bus.c: bus_remove_device).

import (
	"testing"

	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/internal/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// device_add joins the parent's child list only after bus_probe_device, so
// a probing child is not yet among its parent's children; device_link_add
// still refuses a link that would make the parent depend on it
// (core.c: device_add, device_is_dependent's ancestor check).
func TestChildJoinsParentAfterProbe(t *testing.T) {
	sys := newMachine(t)
	soc := sys.NewPlatformDevice("soc")
	require.NoError(t, sys.RegisterDevice(soc))
	var kidsDuringProbe []*device.Device
	var linkErr error
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("i2c", func(d *device.Device) error {
		kidsDuringProbe = d.Parent().Children()
		_, linkErr = sys.AddLink(d.Parent(), d, 0) // soc would depend on its own child
		return nil
	}, nil)))
	i2c := sys.NewPlatformDevice("i2c", device.WithParent(soc))
	require.NoError(t, sys.RegisterDevice(i2c))
	assert.Empty(t, kidsDuringProbe)
	assert.ErrorIs(t, linkErr, device.ErrInvalid)
	assert.Equal(t, []*device.Device{i2c}, soc.Children())
	assert.EqualValues(t, 2, soc.Refs(), "the child's reference on its parent")
	require.NoError(t, sys.UnregisterTree(soc))
}

// device_del releases devres a device collected without a driver (after
// device_links_purge, before BUS_NOTIFY_REMOVED_DEVICE), and device_release
// releases what was added after device_del, before the release callback
// (core.c: device_del, device_release).
func TestDevresWithoutDriverReleasedAtDelAndRelease(t *testing.T) {
	sys := newMachine(t)
	var ran []string
	rec := func(n string) func() { return func() { ran = append(ran, n) } }
	dev := sys.NewPlatformDevice("gadget", device.WithRelease(func(*device.Device) { ran = append(ran, "release") }))
	require.NoError(t, sys.RegisterDevice(dev)) // no driver: stays unbound
	_, err := dev.Devres().Add("iounmap", rec("iounmap"))
	require.NoError(t, err)
	_, err = dev.Devres().Add("clk_put", rec("clk_put"))
	require.NoError(t, err)
	held := dev.Get()
	seq := sys.Log().Seq()
	require.NoError(t, sys.UnregisterDevice(dev))
	assert.Equal(t, []string{"clk_put", "iounmap"}, ran)
	golden.Lines(t, "testdata/devres-at-device-del.golden", since(sys, seq))

	// Someone holding a reference adds devres after device_del: the last
	// put_device releases it before the release callback.
	_, err = dev.Devres().Add("late", rec("late"))
	require.NoError(t, err)
	seq = sys.Log().Seq()
	require.NoError(t, held.Put())
	assert.Equal(t, []string{"clk_put", "iounmap", "late", "release"}, ran)
	golden.Lines(t, "testdata/devres-at-device-release.golden", since(sys, seq))
}

// bus_remove_device takes the device off the bus's list before it releases
// the driver: remove() no longer finds it by name (bus.c: bus_remove_device).
func TestBusRemoveDeviceLeavesBusBeforeRelease(t *testing.T) {
	sys := newMachine(t)
	var found *device.Device
	var onBus []*device.Device
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("eth", nil, func(d *device.Device) {
		found = sys.FindDevice(platform.Name, "eth")
		onBus = sys.BusDevices(platform.Name)
	})))
	dev := sys.NewPlatformDevice("eth")
	require.NoError(t, sys.RegisterDevice(dev))
	require.Equal(t, "eth", dev.DriverName())
	require.NoError(t, sys.UnregisterDevice(dev))
	assert.Nil(t, found, "bus_find_device_by_name during remove")
	assert.Empty(t, onBus)
}

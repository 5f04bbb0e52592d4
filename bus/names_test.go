package bus_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
)

func nop(*device.Device) {}

// device_add refuses names sysfs cannot hold, and a second device at a
// sysfs path already taken; nothing is registered by a refused call.
func TestDeviceAddNameLimits(t *testing.T) {
	c, b := newCore(t)
	for _, c2 := range []struct {
		name string
		err  error
	}{
		{"", device.ErrInvalid},
		{"bad\nname", device.ErrInvalid},
		{"esc\x1b[2J", device.ErrInvalid},
		{strings.Repeat("n", device.NameMax+1), device.ErrNameTooLong},
	} {
		d := platform.NewDevice(b, c2.name)
		require.ErrorIs(t, c.RegisterDevice(d), c2.err, "%q", c2.name)
		assert.False(t, d.IsRegistered())
		require.NoError(t, d.Put())
	}
	assert.Empty(t, c.Devices())

	long := platform.NewDevice(b, strings.Repeat("n", device.NameMax))
	require.NoError(t, c.RegisterDevice(long))
	require.NoError(t, c.UnregisterDevice(long))

	// A chain of parents whose path outgrows PATH_MAX.
	var chain []*device.Device
	var parent *device.Device
	var err error
	for i := 0; ; i++ {
		d := device.New(strings.Repeat("p", 200), device.WithParent(parent), device.WithRelease(nop))
		if err = c.RegisterDevice(d); err != nil {
			require.NoError(t, d.Put())
			break
		}
		chain = append(chain, d)
		parent = d
	}
	require.ErrorIs(t, err, device.ErrNameTooLong)
	assert.Equal(t, (device.PathMax-1-len("/sys/devices"))/201, len(chain))
	require.NoError(t, c.UnregisterTree(chain[0]))
}

// "a/b" is registered as a!b: it does not collide with child b of a, in
// sysfs paths or in DOT ids; two devices at one sysfs path do collide,
// and the second is refused as the kernel's sysfs refuses it.
func TestSlashNamesAndDuplicatePaths(t *testing.T) {
	c, b := newCore(t)
	a := platform.NewDevice(b, "a")
	require.NoError(t, c.RegisterDevice(a))
	child := device.New("b", device.WithParent(a), device.WithRelease(nop))
	require.NoError(t, c.RegisterDevice(child))
	slashed := platform.NewDevice(b, "a/b")
	require.NoError(t, c.RegisterDevice(slashed))
	assert.Equal(t, "/sys/devices/platform/a/b", child.Path())
	assert.Equal(t, "/sys/devices/platform/a!b", slashed.Path())
	assert.Same(t, slashed, c.FindDevice(platform.Name, "a!b"))
	dot := c.DOT()
	assert.Contains(t, dot, `"/sys/devices/platform/a/b" [label=`)
	assert.Contains(t, dot, `"/sys/devices/platform/a!b" [label=`)

	// Another bus putting its device at the same sysfs path.
	other := &bus.Bus{Name: "other", DevRoot: "platform"}
	require.NoError(t, c.RegisterBus(other))
	twin := device.New("a!b", device.WithBus(other), device.WithRelease(nop))
	require.ErrorIs(t, c.RegisterDevice(twin), device.ErrExist)
	assert.True(t, hasEvent(c.Log().Events(), "sysfs_create_dir", "sysfs: cannot create duplicate filename '/devices/platform/a!b'"))
	require.NoError(t, twin.Put())
	// Once the first is gone, the path is free again.
	require.NoError(t, c.UnregisterDevice(slashed))
	twin = device.New("a!b", device.WithBus(other), device.WithRelease(nop))
	require.NoError(t, c.RegisterDevice(twin))
	require.NoError(t, c.UnregisterDevice(twin))
	require.NoError(t, c.UnregisterTree(a))
}

// Buses and drivers need valid sysfs names too.
func TestBusAndDriverNameLimits(t *testing.T) {
	c, _ := newCore(t)
	assert.ErrorIs(t, c.RegisterBus(nil), device.ErrInvalid)
	assert.ErrorIs(t, c.RegisterBus(&bus.Bus{Name: "a/b"}), device.ErrInvalid)
	assert.ErrorIs(t, c.RegisterBus(&bus.Bus{Name: "x", DevRoot: "\r"}), device.ErrInvalid)
	assert.ErrorIs(t, c.RegisterBus(&bus.Bus{Name: strings.Repeat("b", 256)}), device.ErrNameTooLong)
	assert.ErrorIs(t, c.RegisterDriver(&driver.Driver{Name: "d\n", Bus: platform.Name}), device.ErrInvalid)
	assert.ErrorIs(t, c.RegisterDriver(&driver.Driver{Name: "d/e", Bus: platform.Name}), device.ErrInvalid)
	assert.ErrorIs(t, c.RegisterDriver(&driver.Driver{Name: strings.Repeat("d", 256), Bus: platform.Name}), device.ErrNameTooLong)
	assert.Empty(t, c.Drivers(platform.Name))
}

// Double removal: the second device_unregister, device_del, unbind and
// driver_unregister each give the kernel's error and change nothing.
func TestDoubleRemoval(t *testing.T) {
	c, b := newCore(t)
	drv := platform.NewDriver("twice", nil, nil)
	require.NoError(t, c.RegisterDriver(drv))
	d := platform.NewDevice(b, "twice")
	require.NoError(t, c.RegisterDevice(d))
	d.Get()
	require.NoError(t, c.Unbind(d))
	require.ErrorIs(t, c.Unbind(d), device.ErrNoDevice)
	require.NoError(t, c.UnregisterDevice(d))
	require.ErrorIs(t, c.UnregisterDevice(d), device.ErrNoDevice)
	require.ErrorIs(t, c.DeleteDevice(d), device.ErrNoDevice)
	assert.EqualValues(t, 1, d.Refs(), "a refused unregister drops no reference")
	require.NoError(t, d.Put())
	require.NoError(t, c.UnregisterDriver(drv))
	require.ErrorIs(t, c.UnregisterDriver(drv), device.ErrNoEntry)
	require.ErrorIs(t, c.UnregisterDevice(nil), device.ErrNoDevice)
	require.ErrorIs(t, c.RegisterDevice(nil), device.ErrInvalid)
}

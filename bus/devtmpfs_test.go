package bus_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// testClass is a struct class of the test: nodes under /dev/<prefix>.
type testClass struct{ name, prefix string }

func (c testClass) ClassName() string { return c.name }
func (c testClass) DevNode(d *device.Device) string {
	if c.prefix == "" {
		return ""
	}
	return c.prefix + d.Name()
}

func classDevice(c *bus.Core, t *testing.T, name string, cl device.Class, devt device.DevT, parent *device.Device) *device.Device {
	t.Helper()
	opts := []device.Option{device.WithClass(cl), device.WithDevt(devt), device.WithRelease(func(*device.Device) {})}
	if parent != nil {
		opts = append(opts, device.WithParent(parent))
	}
	d := device.New(name, opts...)
	require.NoError(t, c.RegisterDevice(d))
	return d
}

// device_add of a device with a number creates its /dev node (named by
// its class) and puts MAJOR, MINOR and DEVNAME in its uevent; device_del
// removes the node. A class device lives in its parent's class directory,
// or under /sys/devices/virtual.
func TestDevtmpfsNodesFollowDevices(t *testing.T) {
	c, _ := newCore(t)
	dri := testClass{"drm", "dri/"}
	parent := platform.NewDevice(c.Bus("platform"), "gpu")
	require.NoError(t, c.RegisterDevice(parent))
	card := classDevice(c, t, "card0", dri, device.MkDev(226, 0), parent)
	assert.Equal(t, "/sys/devices/platform/gpu/drm/card0", card.Path())
	virt := classDevice(c, t, "tty0", testClass{"tty", ""}, device.MkDev(4, 0), nil)
	assert.Equal(t, "/sys/devices/virtual/tty/tty0", virt.Path())
	assert.Equal(t, []bus.DevNode{
		{Name: "dri/card0", Devt: device.MkDev(226, 0), Dev: card},
		{Name: "tty0", Devt: device.MkDev(4, 0), Dev: virt},
	}, c.DevNodes())
	n, ok := c.LookupDevNode("/dev/dri/card0")
	require.True(t, ok)
	assert.Same(t, card, n.Dev)
	uevents := trace.Shorts(trace.Filter(c.Log().Events(), func(e trace.Event) bool { return e.Func == "kobject_uevent" && e.Dev == card.Path() }))
	assert.Equal(t, []string{"kobject_uevent /sys/devices/platform/gpu/drm/card0: add MAJOR=226 MINOR=0 DEVNAME=dri/card0"}, uevents)
	assert.Contains(t, c.Tree(), "platform/gpu/drm/card0 class=drm dev=226:0 state=added")

	require.NoError(t, c.UnregisterDevice(card))
	_, ok = c.LookupDevNode("/dev/dri/card0")
	assert.False(t, ok)
	require.NoError(t, c.UnregisterDevice(virt))
	assert.Empty(t, c.DevNodes())
	assert.Equal(t, []string{
		"devtmpfs_create_node /sys/devices/platform/gpu/drm/card0: /dev/dri/card0 226:0",
		"devtmpfs_create_node /sys/devices/virtual/tty/tty0: /dev/tty0 4:0",
		"devtmpfs_delete_node /sys/devices/platform/gpu/drm/card0: /dev/dri/card0",
		"devtmpfs_delete_node /sys/devices/virtual/tty/tty0: /dev/tty0",
	}, trace.Shorts(trace.Filter(c.Log().Events(), func(e trace.Event) bool {
		return e.Func == "devtmpfs_create_node" || e.Func == "devtmpfs_delete_node"
	})))
}

// A class device below a bound device is its driver's: device_del of the
// parent lets the driver's remove delete it (as a USB disconnect's
// usb_deregister_dev does), and warns about one it left; UnregisterTree
// leaves class children to their driver. A bus child still makes
// device_del refuse.
func TestDeviceDelWithClassChildren(t *testing.T) {
	c, b := newCore(t)
	misc := testClass{"misc", ""}
	var node *device.Device
	drv := platform.NewDriver("chip", func(d *device.Device) error {
		node = classDevice(c, t, "chip0", misc, device.MkDev(10, 1), d)
		return nil
	}, func(d *device.Device) {
		require.NoError(t, c.UnregisterDevice(node)) // device_destroy in remove
	})
	require.NoError(t, c.RegisterDriver(drv))
	chip := platform.NewDevice(b, "chip")
	require.NoError(t, c.RegisterDevice(chip))
	require.NotNil(t, node)
	assert.Equal(t, 1, chip.NumChildren())
	require.NoError(t, c.UnregisterTree(chip), "the class child is the driver's to remove")
	assert.Equal(t, device.StateRemoved, node.State())
	assert.Empty(t, c.DevNodes())

	// A driver that forgets its device_destroy: device_del goes on, with a
	// warning, and the class device stays registered.
	leaky := platform.NewDriver("leaky", func(d *device.Device) error {
		classDevice(c, t, "leak0", misc, device.MkDev(10, 2), d)
		return nil
	}, nil)
	require.NoError(t, c.RegisterDriver(leaky))
	l := platform.NewDevice(b, "leaky")
	require.NoError(t, c.RegisterDevice(l))
	require.NoError(t, c.UnregisterDevice(l))
	assert.Contains(t, trace.Shorts(trace.Filter(c.Log().Events(), trace.OfKind(trace.Warn))),
		"device_del /sys/devices/platform/leaky: class device /sys/devices/platform/leaky/misc/leak0 is still registered: its driver did not remove it (device_destroy)")
}

// CoreOf finds the machine's driver core from its environment, or from
// anything living in it.
func TestCoreOf(t *testing.T) {
	c, b := newCore(t)
	assert.Same(t, c, bus.CoreOf(c.Env()))
	d := platform.NewDevice(b, "x")
	assert.Nil(t, bus.CoreOf(d), "not initialized: no machine yet")
	require.NoError(t, c.RegisterDevice(d))
	assert.Same(t, c, bus.CoreOf(d))
	assert.Nil(t, bus.CoreOf(env.New()))
	assert.Nil(t, bus.CoreOf(nil))
}

// DOT draws a class device dashed, with its class and number.
func TestDOTClassDevice(t *testing.T) {
	c, _ := newCore(t)
	classDevice(c, t, "tty0", testClass{"tty", ""}, device.MkDev(4, 0), nil)
	assert.Contains(t, c.DOT(), `"/sys/devices/virtual/tty/tty0" [label="tty0\nclass=tty\ndev=4:0", style="rounded,dashed"];`)
}

package bus_test

// Device links (core.c: device_link_add, device_links_*).

import (
	"testing"

	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/internal/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// device_link_add refuses a loop (a device's child as its supplier) and
// contradictory flags, and returns the existing link for a duplicate.
func TestLinkLoopAndFlags(t *testing.T) {
	sys := newMachine(t)
	a := sys.NewPlatformDevice("a")
	b := sys.NewPlatformDevice("b", device.WithParent(a))
	require.NoError(t, sys.RegisterDevice(a))
	require.NoError(t, sys.RegisterDevice(b))
	_, err := sys.AddLink(a, b, 0) // a's child as a's supplier: loop
	require.ErrorIs(t, err, device.ErrInvalid)
	_, err = sys.AddLink(b, a, device.LinkStateless|device.LinkAutoprobeConsumer)
	require.ErrorIs(t, err, device.ErrInvalid)
	l, err := sys.AddLink(b, a, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	l2, err := sys.AddLink(b, a, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	require.Same(t, l, l2)
	require.Contains(t, sys.Tree(), "links\n  b -> a flags=AUTOREMOVE_CONSUMER\n")
}

// The order in which links are dropped: device_links_driver_cleanup handles
// the links to consumers first, then (in __device_links_no_driver) the links
// to suppliers from the newest; a failed probe drops the newest supplier
// link first; device_links_purge walks both lists from the newest
// (core.c).
func TestDeviceLinkDropOrder(t *testing.T) {
	sys := newMachine(t)
	for _, n := range []string{"s1", "s2", "mid", "c1"} {
		require.NoError(t, sys.RegisterDriver(platform.NewDriver(n, nil, nil)))
	}
	reg := func(n string) *device.Device {
		d := sys.NewPlatformDevice(n)
		require.NoError(t, sys.RegisterDevice(d))
		return d
	}
	s1, s2, mid, c1 := reg("s1"), reg("s2"), reg("mid"), reg("c1")
	_, err := sys.AddLink(mid, s1, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	_, err = sys.AddLink(mid, s2, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	_, err = sys.AddLink(c1, mid, device.LinkAutoremoveSupplier)
	require.NoError(t, err)

	seq := sys.Log().Seq()
	require.NoError(t, sys.Unbind(mid))
	golden.Lines(t, "testdata/link-drop-driver-cleanup.golden", linkEvents(sys, seq))

	// A failed probe: __device_links_no_driver, newest supplier link first.
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("bad", func(*device.Device) error { return device.ErrIO }, nil)))
	bad := sys.NewPlatformDevice("bad")
	bad.SetDriverOverride("none")
	require.NoError(t, sys.RegisterDevice(bad))
	_, err = sys.AddLink(bad, s1, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	_, err = sys.AddLink(bad, s2, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	bad.SetDriverOverride("")
	seq = sys.Log().Seq()
	bound, err := sys.Attach(bad)
	require.NoError(t, err)
	require.False(t, bound)
	golden.Lines(t, "testdata/link-drop-no-driver.golden", linkEvents(sys, seq))

	// device_links_purge: suppliers newest first, then consumers newest first.
	_, err = sys.AddLink(mid, s1, device.LinkStateless)
	require.NoError(t, err)
	_, err = sys.AddLink(mid, s2, device.LinkStateless)
	require.NoError(t, err)
	_, err = sys.AddLink(c1, mid, device.LinkStateless)
	require.NoError(t, err)
	_, err = sys.AddLink(bad, mid, device.LinkStateless)
	require.NoError(t, err)
	seq = sys.Log().Seq()
	require.NoError(t, sys.UnregisterDevice(mid))
	golden.Lines(t, "testdata/link-drop-purge.golden", linkEvents(sys, seq))
}

// device_link_add's flag rules: STATELESS excludes every managed flag,
// AUTOPROBE_CONSUMER excludes both AUTOREMOVE flags, and AUTOREMOVE_SUPPLIER
// wins over AUTOREMOVE_CONSUMER. Adding an existing managed link again keeps
// it for the longer of the two lifetimes.
func TestDeviceLinkAddFlags(t *testing.T) {
	sys := newMachine(t)
	a, b := sys.NewPlatformDevice("a"), sys.NewPlatformDevice("b")
	require.NoError(t, sys.RegisterDevice(a))
	require.NoError(t, sys.RegisterDevice(b))
	for _, f := range []device.LinkFlags{
		device.LinkStateless | device.LinkAutoremoveConsumer,
		device.LinkStateless | device.LinkAutoremoveSupplier,
		device.LinkStateless | device.LinkAutoprobeConsumer,
		device.LinkAutoprobeConsumer | device.LinkAutoremoveConsumer,
		device.LinkAutoprobeConsumer | device.LinkAutoremoveSupplier,
	} {
		_, err := sys.AddLink(b, a, f)
		require.ErrorIs(t, err, device.ErrInvalid, "flags %s", f)
	}
	l, err := sys.AddLink(b, a, device.LinkAutoremoveConsumer|device.LinkAutoremoveSupplier)
	require.NoError(t, err)
	assert.Equal(t, device.LinkAutoremoveSupplier, l.Flags)
	require.NoError(t, sys.UnregisterDevice(b)) // purges the link
	b = sys.NewPlatformDevice("b")
	require.NoError(t, sys.RegisterDevice(b))

	l, err = sys.AddLink(b, a, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	l2, err := sys.AddLink(b, a, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	require.Same(t, l, l2)
	assert.Equal(t, device.LinkAutoremoveConsumer, l.Flags)
	_, err = sys.AddLink(b, a, device.LinkAutoremoveSupplier)
	require.NoError(t, err)
	assert.Equal(t, device.LinkAutoremoveSupplier, l.Flags, "lives until the supplier unbinds")
	_, err = sys.AddLink(b, a, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	assert.Equal(t, device.LinkAutoremoveSupplier, l.Flags, "a shorter lifetime does not shorten it")
	_, err = sys.AddLink(b, a, 0)
	require.NoError(t, err)
	assert.Equal(t, device.LinkFlags(0), l.Flags, "persistent now")

	// A managed link is the core's: device_link_del refuses it while the
	// consumer is registered.
	seq := sys.Log().Seq()
	require.ErrorIs(t, sys.DeleteLink(l), device.ErrInvalid)
	assert.Equal(t, []string{"device_link_del /sys/devices/platform/b: Unable to drop a managed device link reference"}, since(sys, seq))
	assert.Len(t, b.Suppliers(), 1)
	s, err := sys.AddLink(a, b, device.LinkStateless)
	require.ErrorIs(t, err, device.ErrInvalid, "loop")
	require.Nil(t, s)
}

// device_reorder_to_tail moves a device's consumers along with it, whatever
// kind of link (core.c).
func TestReorderMovesStatelessConsumers(t *testing.T) {
	sys := newMachine(t)
	reg := func(n string) *device.Device {
		d := sys.NewPlatformDevice(n)
		require.NoError(t, sys.RegisterDevice(d))
		return d
	}
	x, y, z := reg("x"), reg("y"), reg("z")
	_, err := sys.AddLink(y, x, device.LinkStateless)
	require.NoError(t, err)
	require.Equal(t, []*device.Device{x, z, y}, sys.Devices())
	_, err = sys.AddLink(x, z, device.LinkStateless)
	require.NoError(t, err)
	assert.Equal(t, []*device.Device{z, x, y}, sys.Devices())
}

// driver_deferred_probe_add ignores a device that never matched a driver
// (dev->can_match): an AUTOPROBE_CONSUMER link does not queue it.
func TestAutoprobeConsumerThatNeverMatched(t *testing.T) {
	sys := newMachine(t)
	orphan, pwm := sys.NewPlatformDevice("orphan"), sys.NewPlatformDevice("pwm")
	require.NoError(t, sys.RegisterDevice(orphan))
	require.NoError(t, sys.RegisterDevice(pwm))
	_, err := sys.AddLink(orphan, pwm, device.LinkAutoprobeConsumer)
	require.NoError(t, err)
	seq := sys.Log().Seq()
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("pwm", nil, nil)))
	for _, s := range since(sys, seq) {
		assert.NotContains(t, s, "orphan")
	}
}

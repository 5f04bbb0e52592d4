package usbsim_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A root hub has 1 to USB_MAXCHILDREN ports; anything else is refused
// before anything is allocated or registered.
func TestAddHCDPortLimits(t *testing.T) {
	_, u, _ := newUSB(t)
	for _, n := range []int{0, -1, usbsim.MaxChildren + 1, 1_000_000_000, math.MaxInt, math.MinInt} {
		_, err := u.AddHCD(n)
		assert.ErrorIs(t, err, usbsim.ErrInvalid, "%d ports", n)
	}
	assert.Len(t, u.HCDs(), 1, "no bus registered by a refused AddHCD")
	h, err := u.AddHCD(usbsim.MaxChildren)
	require.NoError(t, err)
	assert.Equal(t, 2, h.BusNum())
	assert.Nil(t, h.RootHub().Child(usbsim.MaxChildren))
}

// usb_register_bus gives the lowest free bus number below USB_MAXBUS and
// usb_deregister_bus frees it; a second removal is -ENODEV.
func TestBusNumbersReused(t *testing.T) {
	sys, u, h1 := newUSB(t)
	h2, err := u.AddHCD(2)
	require.NoError(t, err)
	seq := sys.Log().Seq()
	require.NoError(t, h1.Remove())
	assert.Contains(t, usbEvents(sys, seq), "usb_deregister_bus /sys/devices/usb1: USB bus 1 deregistered")
	assert.ErrorIs(t, h1.Remove(), usbsim.ErrNoDevice)
	assert.Equal(t, []*usbsim.HCD{h2}, u.HCDs(), "a removed controller is no longer listed")

	h3, err := u.AddHCD(2)
	require.NoError(t, err)
	assert.Equal(t, 1, h3.BusNum(), "bus number 1 is free again")
	assert.Equal(t, "usb1", h3.RootHub().Name())
	d, err := h3.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 8, nil))
	require.NoError(t, err)
	assert.Equal(t, "1-1", d.Name())

	// Bus numbers 1..63; the 64th controller finds none.
	for n := 3; n < usbsim.MaxBus; n++ {
		h, err := u.AddHCD(1)
		require.NoError(t, err)
		require.Equal(t, n, h.BusNum())
	}
	seq = sys.Log().Seq()
	_, err = u.AddHCD(1)
	assert.ErrorIs(t, err, usbsim.ErrTooBig)
	assert.Equal(t, []string{"usb_register_bus: usbcore: failed to get bus number"}, usbEvents(sys, seq))
	assert.Len(t, u.HCDs(), usbsim.MaxBus-1)
	require.NoError(t, h2.Remove())
	h, err := u.AddHCD(1)
	require.NoError(t, err)
	assert.Equal(t, 2, h.BusNum(), "the freed number is the lowest free one")
}

// A hub descriptor states at most 255 ports; a gadget claiming more or
// fewer is refused by Plug, with no allocation (it used to panic in
// makeslice) and the port left free.
func TestPlugRefusesImpossibleHubs(t *testing.T) {
	_, _, h := newUSB(t)
	for _, n := range []int{math.MaxInt, 256, -1, math.MinInt} {
		_, err := h.RootHub().Plug(1, usbsim.HubGadget(n))
		assert.ErrorIs(t, err, usbsim.ErrInvalid, "%d ports", n)
		assert.Nil(t, h.RootHub().Connected(1), "%d ports: the port is free", n)
	}
}

// hub_configure refuses a hub with no ports or more than USB_MAXCHILDREN:
// the device is enumerated, the hub driver does not bind, and nothing
// watches its ports.
func TestHubDriverRefusesPortCounts(t *testing.T) {
	for _, c := range []struct {
		ports int
		why   string
	}{
		{0, "hub doesn't have any ports!"},
		{usbsim.MaxChildren + 1, "hub has too many ports!"},
		{255, "hub has too many ports!"},
	} {
		t.Run(fmt.Sprint(c.ports), func(t *testing.T) {
			sys, _, h := newUSB(t)
			seq := sys.Log().Seq()
			d, err := h.RootHub().Plug(1, usbsim.HubGadget(c.ports))
			require.NoError(t, err)
			intf := d.Interface(0)
			require.NotNil(t, intf)
			assert.Empty(t, intf.Dev().DriverName(), "the hub driver did not bind")
			assert.Contains(t, usbEvents(sys, seq), "hub_configure /sys/devices/usb1/1-1/1-1:1.0: config failed, "+c.why+" (err -19)")
			if c.ports > 0 {
				_, err = d.Plug(1, usbsim.BulkGadget(1, 2, 8, nil))
				assert.ErrorIs(t, err, usbsim.ErrNotEnumerated)
			}
		})
	}
}

// A chain of hubs: the hub driver takes the hubs of levels 1 to 5 and
// refuses the sixth with -E2BIG, "hub nested too deep", as hub_probe does
// at MAX_TOPO_LEVEL; a device (not a hub) at level 6 works.
func TestHubNestedTooDeep(t *testing.T) {
	sys := drvsim.NewSystem()
	t.Cleanup(sys.Close)
	u, err := usbsim.Init(sys)
	require.NoError(t, err)
	h, err := u.AddHCD(1)
	require.NoError(t, err)
	hub := h.RootHub()
	for level := 1; level < usbsim.MaxTopoLevel; level++ {
		hub, err = hub.Plug(1, usbsim.HubGadget(2))
		require.NoError(t, err)
		require.Equal(t, level, hub.Level())
		require.Equal(t, "hub", hub.Interface(0).Dev().DriverName(), "level %d", level)
	}
	assert.Equal(t, "1-1.1.1.1.1", hub.Name())
	dev, err := hub.Plug(2, usbsim.BulkGadget(1, 2, 8, nil))
	require.NoError(t, err, "a device at level 6")
	assert.Equal(t, usbsim.MaxTopoLevel, dev.Level())

	seq := sys.Log().Seq()
	deep, err := hub.Plug(1, usbsim.HubGadget(2))
	require.NoError(t, err, "the hub itself is enumerated")
	assert.Equal(t, "1-1.1.1.1.1.1", deep.Name())
	assert.Empty(t, deep.Interface(0).Dev().DriverName(), "the hub driver refused it")
	evs := trace.Shorts(sys.Log().Since(seq))
	assert.Contains(t, evs, "hub_probe /sys/devices/usb1/1-1/1-1.1/1-1.1.1/1-1.1.1.1/1-1.1.1.1.1/1-1.1.1.1.1.1/1-1.1.1.1.1.1:1.0: Unsupported bus topology: hub nested too deep")
	assert.True(t, containsWith(evs, "E2BIG"), "the probe failed with -E2BIG:\n%s", strings.Join(evs, "\n"))
	_, err = deep.Plug(1, usbsim.HubGadget(2))
	assert.ErrorIs(t, err, usbsim.ErrNotEnumerated, "nothing below it is enumerated: the chain of 20 hubs stops here")
}

func containsWith(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

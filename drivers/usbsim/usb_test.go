package usbsim_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a test interface driver that records its calls.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func (r *recorder) driver(name string, ids ...usbsim.DeviceID) *usbsim.Driver {
	return &usbsim.Driver{Name: name, IDTable: ids,
		Probe:      func(i *usbsim.Interface, _ usbsim.DeviceID) error { r.add("probe " + i.Name()); return nil },
		Disconnect: func(i *usbsim.Interface) { r.add("disconnect " + i.Name()) },
	}
}

// Scenario 1 at the core level: the usb_device binds to the generic driver,
// the interface binds to the interface driver by its id table.
func TestPlugBindsByIDTable(t *testing.T) {
	_, u, h := newUSB(t)
	var rec recorder
	require.NoError(t, u.Register(rec.driver("t", usbsim.ID(0xfff0, 0xfff0))))
	dev, err := h.RootHub().Plug(2, usbsim.BulkGadget(0xfff0, 0xfff0, 64, nil))
	require.NoError(t, err)
	assert.Equal(t, "1-2", dev.Name())
	assert.Equal(t, "/sys/devices/usb1/1-2", dev.Path())
	assert.Equal(t, usbsim.StateConfigured, dev.State())
	assert.Equal(t, "usb", dev.Dev().DriverName())
	intf := dev.Interface(0)
	require.NotNil(t, intf)
	assert.Equal(t, "1-2:1.0", intf.Name())
	assert.Equal(t, "t", intf.Dev().DriverName())
	assert.Equal(t, usbsim.Bound, intf.Condition())
	assert.Equal(t, []string{"probe 1-2:1.0"}, rec.get())
	assert.Same(t, dev, h.RootHub().Child(2))

	_, err = h.RootHub().Plug(2, usbsim.HubGadget(2))
	assert.ErrorIs(t, err, usbsim.ErrBusy)
	_, err = h.RootHub().Plug(9, usbsim.HubGadget(2))
	assert.ErrorIs(t, err, usbsim.ErrInvalid)
	_, err = dev.Plug(1, usbsim.HubGadget(2))
	assert.ErrorIs(t, err, usbsim.ErrInvalid, "not a hub")
}

// A driver registered after the device binds (driver_attach); one that
// does not match does not.
func TestRegisterAfterPlugAndNoMatch(t *testing.T) {
	_, u, h := newUSB(t)
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(0x1111, 0x2222, 64, nil))
	require.NoError(t, err)
	var other, rec recorder
	require.NoError(t, u.Register(other.driver("other", usbsim.ID(0x1111, 0x9999))))
	require.NoError(t, u.Register(rec.driver("t", usbsim.InterfaceInfo(usbsim.ClassVendorSpec, 0, 0))))
	assert.Empty(t, other.get())
	assert.Equal(t, []string{"probe 1-1:1.0"}, rec.get())
	require.NoError(t, u.Deregister(u.InterfaceOf(dev.Interface(0).Dev()).Driver()))
	assert.Equal(t, []string{"probe 1-1:1.0", "disconnect 1-1:1.0"}, rec.get())
	assert.Nil(t, dev.Interface(0).Driver())
}

// new_id: a dynamic id makes an unbound interface bind.
func TestNewID(t *testing.T) {
	_, u, h := newUSB(t)
	var rec recorder
	d := rec.driver("t") // empty id table
	require.NoError(t, u.Register(d))
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(0x1111, 0x2222, 64, nil))
	require.NoError(t, err)
	assert.Empty(t, rec.get())
	require.NoError(t, d.NewID(0x1111, 0x2222, usbsim.ClassVendorSpec))
	assert.Equal(t, []string{"probe 1-1:1.0"}, rec.get())
	assert.Equal(t, "t", dev.Interface(0).Dev().DriverName())
	d.RemoveID(0x1111, 0x2222)
	d.NoDynamicID = true
	assert.ErrorIs(t, d.NewID(1, 2), usbsim.ErrInvalid)
}

// A failing probe leaves the interface unbound with no interface data.
func TestProbeFailure(t *testing.T) {
	_, u, h := newUSB(t)
	d := &usbsim.Driver{Name: "fails", IDTable: []usbsim.DeviceID{usbsim.ID(1, 2)},
		Probe: func(i *usbsim.Interface, _ usbsim.DeviceID) error {
			i.SetIntfdata("state")
			return usbsim.ErrIO
		}}
	require.NoError(t, u.Register(d))
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 64, nil))
	require.NoError(t, err)
	intf := dev.Interface(0)
	assert.Equal(t, usbsim.Unbound, intf.Condition())
	assert.Nil(t, intf.Intfdata())
	assert.Nil(t, intf.Driver())
}

// Scenario 4: unplugging a hub with two devices behind it disconnects the
// children first, port by port, each one's interfaces before the device
// itself, then the hub's own interface and the hub.
func TestUnplugHubOrder(t *testing.T) {
	sys, u, h := newUSB(t)
	var rec recorder
	require.NoError(t, u.Register(rec.driver("t", usbsim.ID(0xfff0, 0xfff0))))
	hub, err := h.RootHub().Plug(1, usbsim.HubGadget(4))
	require.NoError(t, err)
	_, err = hub.Plug(3, usbsim.BulkGadget(0xfff0, 0xfff0, 64, nil))
	require.NoError(t, err)
	_, err = hub.Plug(1, usbsim.BulkGadget(0xfff0, 0xfff0, 64, nil))
	require.NoError(t, err)
	seq := sys.Log().Seq()
	require.NoError(t, h.RootHub().Unplug(1))
	assert.Equal(t, []string{
		"hub_port_connect_change /sys/devices/usb1: port 1: connect change, device gone",
		"usb_set_device_state /sys/devices/usb1/1-1: configured -> not attached",
		"usb_set_device_state /sys/devices/usb1/1-1/1-1.1: configured -> not attached",
		"usb_set_device_state /sys/devices/usb1/1-1/1-1.3: configured -> not attached",
		"usb_disconnect /sys/devices/usb1/1-1: USB disconnect, device number 2",
		"hub_disconnect_children /sys/devices/usb1/1-1: 4 port(s)",
		// port 1 first
		"usb_disconnect /sys/devices/usb1/1-1/1-1.1: USB disconnect, device number 4",
		"usb_disconnect /sys/devices/usb1/1-1/1-1.1: unregistering device",
		"usb_disable_device /sys/devices/usb1/1-1/1-1.1",
		"usb_disable_device /sys/devices/usb1/1-1/1-1.1: unregistering interface 1-1.1:1.0",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1.1/1-1.1:1.0: driver=t soft_unbind=false device_gone=true",
		"usb_disable_interface /sys/devices/usb1/1-1/1-1.1/1-1.1:1.0: terminating URBs",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1.1/1-1.1:1.0: driver->disconnect",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1.1/1-1.1:1.0: unbound",
		"usb_release_interface /sys/devices/usb1/1-1/1-1.1/1-1.1:1.0",
		"usb_disable_device /sys/devices/usb1/1-1/1-1.1: nuking all URBs",
		"usb_unbind_device /sys/devices/usb1/1-1/1-1.1: driver=usb",
		"usb_disconnect /sys/devices/usb1/1-1/1-1.1: release_devnum 4, put_device",
		"usb_release_dev /sys/devices/usb1/1-1/1-1.1",
		// then port 3
		"usb_disconnect /sys/devices/usb1/1-1/1-1.3: USB disconnect, device number 3",
		"usb_disconnect /sys/devices/usb1/1-1/1-1.3: unregistering device",
		"usb_disable_device /sys/devices/usb1/1-1/1-1.3",
		"usb_disable_device /sys/devices/usb1/1-1/1-1.3: unregistering interface 1-1.3:1.0",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1.3/1-1.3:1.0: driver=t soft_unbind=false device_gone=true",
		"usb_disable_interface /sys/devices/usb1/1-1/1-1.3/1-1.3:1.0: terminating URBs",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1.3/1-1.3:1.0: driver->disconnect",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1.3/1-1.3:1.0: unbound",
		"usb_release_interface /sys/devices/usb1/1-1/1-1.3/1-1.3:1.0",
		"usb_disable_device /sys/devices/usb1/1-1/1-1.3: nuking all URBs",
		"usb_unbind_device /sys/devices/usb1/1-1/1-1.3: driver=usb",
		"usb_disconnect /sys/devices/usb1/1-1/1-1.3: release_devnum 3, put_device",
		"usb_release_dev /sys/devices/usb1/1-1/1-1.3",
		// then the hub itself
		"usb_disconnect /sys/devices/usb1/1-1: unregistering device",
		"usb_disable_device /sys/devices/usb1/1-1",
		"usb_disable_device /sys/devices/usb1/1-1: unregistering interface 1-1:1.0",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: driver=hub soft_unbind=false device_gone=true",
		"usb_disable_interface /sys/devices/usb1/1-1/1-1:1.0: terminating URBs",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: driver->disconnect",
		"hub_disconnect /sys/devices/usb1/1-1/1-1:1.0",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: unbound",
		"usb_release_interface /sys/devices/usb1/1-1/1-1:1.0",
		"usb_disable_device /sys/devices/usb1/1-1: nuking all URBs",
		"usb_unbind_device /sys/devices/usb1/1-1: driver=usb",
		"usb_disconnect /sys/devices/usb1/1-1: release_devnum 2, put_device",
		"usb_release_dev /sys/devices/usb1/1-1",
	}, usbEvents(sys, seq))
	assert.Equal(t, []string{"probe 1-1.3:1.0", "probe 1-1.1:1.0", "disconnect 1-1.1:1.0", "disconnect 1-1.3:1.0"}, rec.get())
	assert.Nil(t, h.RootHub().Child(1))
	assert.Empty(t, sys.BusDevices(usbsim.BusName)[2:], "only the root hub and its interface are left")
	assert.ErrorIs(t, h.RootHub().Unplug(1), usbsim.ErrNoDevice)
}

// usb_remove_hcd disconnects everything below the root hub.
func TestRemoveHCD(t *testing.T) {
	sys, _, h := newUSB(t)
	hub, err := h.RootHub().Plug(1, usbsim.HubGadget(2))
	require.NoError(t, err)
	_, err = hub.Plug(2, usbsim.BulkGadget(1, 2, 8, nil))
	require.NoError(t, err)
	require.NoError(t, h.Remove())
	assert.Empty(t, sys.BusDevices(usbsim.BusName))
	_, err = h.RootHub().Plug(2, usbsim.HubGadget(2))
	assert.ErrorIs(t, err, usbsim.ErrNoDevice)
	assert.ErrorIs(t, h.Remove(), usbsim.ErrNoDevice, "a second removal is refused")
	// the hub is still plugged into the dead controller: it can be taken
	// out, with nothing to disconnect
	require.NotNil(t, h.RootHub().Connected(1))
	require.NoError(t, h.RootHub().Unplug(1))
	assert.ErrorIs(t, h.RootHub().Unplug(1), usbsim.ErrNoDevice)
}

// A Buffer's accesses go through the sanitizer.
func TestBufferUseAfterFreeReported(t *testing.T) {
	_, u, _ := newUSB(t)
	b := u.AllocBuffer("buf", 4)
	b.Free()
	b.Bytes("read after free")
	reps := u.Memory().Reports()
	require.Len(t, reps, 1)
	assert.Equal(t, "BUG: KASAN: use-after-free in read after free", reps[0].Title)
	assert.True(t, errors.Is(usbsim.ErrShutdown, usbsim.ErrShutdown))
	assert.Equal(t, "-ESHUTDOWN", usbsim.Errno(usbsim.ErrShutdown))
}

func TestSuspendResume(t *testing.T) {
	_, u, h := newUSB(t)
	var rec recorder
	d := rec.driver("pm", usbsim.ID(1, 2))
	d.Suspend = func(i *usbsim.Interface) error { rec.add("suspend " + i.Name()); return nil }
	d.Resume = func(i *usbsim.Interface) error { rec.add("resume " + i.Name()); return nil }
	require.NoError(t, u.Register(d))
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 8, nil))
	require.NoError(t, err)
	require.NoError(t, dev.Suspend())
	assert.Equal(t, usbsim.StateSuspended, dev.State())
	assert.ErrorIs(t, dev.Suspend(), usbsim.ErrInvalid)
	require.NoError(t, dev.Resume())
	assert.Equal(t, usbsim.StateConfigured, dev.State())
	assert.Equal(t, []string{"probe 1-1:1.0", "suspend 1-1:1.0", "resume 1-1:1.0"}, rec.get())
	d.Suspend = func(*usbsim.Interface) error { return usbsim.ErrBusy }
	assert.ErrorIs(t, dev.Suspend(), usbsim.ErrBusy)
	assert.Equal(t, usbsim.StateConfigured, dev.State())
}

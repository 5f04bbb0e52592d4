package usbsim_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allEvents renders every event recorded after seq (driver core, uevents,
// memory and usb alike).
func allEvents(sys *drvsim.System, seq uint64) []string {
	return trace.Shorts(sys.Log().Since(seq))
}

// requireInOrder asserts that, for each prefix in turn, some line starts
// with it, each one after the previous prefix's line.
func requireInOrder(t *testing.T, lines []string, prefixes ...string) {
	t.Helper()
	at := -1
	for _, p := range prefixes {
		found := -1
		for i := at + 1; i < len(lines); i++ {
			if strings.HasPrefix(lines[i], p) {
				found = i
				break
			}
		}
		require.GreaterOrEqualf(t, found, 0, "%q not found after line %d (%q) in:\n%s", p, at, safeLine(lines, at), strings.Join(lines, "\n"))
		at = found
	}
}

func safeLine(lines []string, i int) string {
	if i < 0 || i >= len(lines) {
		return ""
	}
	return lines[i]
}

// gone asserts that a driver-model device was deleted and released and
// that the usb core forgot it.
func gone(t *testing.T, u *usbsim.USB, devs ...*device.Device) {
	t.Helper()
	for _, d := range devs {
		assert.False(t, d.IsRegistered(), "%s still registered", d.Path())
		assert.True(t, d.Released(), "%s not released", d.Path())
		assert.Nil(t, u.DeviceOf(d), "%s: usb_device still known", d.Path())
		assert.Nil(t, u.InterfaceOf(d), "%s: interface still known", d.Path())
	}
}

// busNames returns the names of the devices on the usb bus.
func busNames(sys *drvsim.System) []string {
	var out []string
	for _, d := range sys.BusDevices(usbsim.BusName) {
		out = append(out, d.Name())
	}
	return out
}

// Unbinding the hub driver from the root hub's interface (echo usb1:1.0 >
// /sys/bus/usb/drivers/hub/unbind) disconnects the device on its port, as
// hub_disconnect -> hub_quiesce(HUB_DISCONNECT) -> usb_disconnect does: the
// child's URB is terminated, its interface driver's disconnect runs, its
// interface and the usb_device are deleted and released, all before the
// hub's unbind completes. The hub comes back with bind, with empty ports.
func TestUnbindHubDriverDisconnectsChild(t *testing.T) {
	sys, u, h := newUSB(t)
	var d intDriver
	var rec recorder
	drv := d.driver(u)
	drv.Disconnect = func(i *usbsim.Interface) {
		// usb_unbind_interface terminated the URB before disconnect
		rec.add("disconnect " + i.Name() + " after " + usbsim.Errno(d.got()[0]))
	}
	require.NoError(t, u.Register(drv))
	root := h.RootHub()
	g := intGadget(usbsim.NewLoopback(0)) // the interrupt never comes
	child, err := root.Plug(1, g)
	require.NoError(t, err)
	require.True(t, d.urb.InFlight())
	childIntf := child.Interface(0)
	require.NotNil(t, childIntf)
	hubIntf := root.Interface(0)
	require.Equal(t, "hub", hubIntf.Dev().DriverName())

	seq := sys.Log().Seq()
	require.NoError(t, sys.Unbind(hubIntf.Dev()))

	assert.Equal(t, []string{
		"usb_unbind_interface /sys/devices/usb1/usb1:1.0: driver=hub soft_unbind=false device_gone=false",
		"usb_disable_interface /sys/devices/usb1/usb1:1.0: terminating URBs",
		"usb_unbind_interface /sys/devices/usb1/usb1:1.0: driver->disconnect",
		"hub_disconnect /sys/devices/usb1/usb1:1.0",
		"hub_quiesce /sys/devices/usb1/usb1:1.0: HUB_DISCONNECT: disconnecting 1 child device(s)",
		"usb_set_device_state /sys/devices/usb1/1-1: configured -> not attached",
		"usb_disconnect /sys/devices/usb1/1-1: USB disconnect, device number 2",
		"usb_disconnect /sys/devices/usb1/1-1: unregistering device",
		"usb_disable_device /sys/devices/usb1/1-1",
		"usb_disable_device /sys/devices/usb1/1-1: unregistering interface 1-1:1.0",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: driver=int soft_unbind=false device_gone=true",
		"usb_disable_interface /sys/devices/usb1/1-1/1-1:1.0: terminating URBs",
		"usb_hcd_flush_endpoint /sys/devices/usb1/1-1: ep83: 1 URB(s)",
		"usb_hcd_giveback_urb /sys/devices/usb1/1-1: urb 1 ep83 status=-ESHUTDOWN actual=0",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: driver->disconnect",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: unbound",
		"usb_release_interface /sys/devices/usb1/1-1/1-1:1.0",
		"usb_disable_device /sys/devices/usb1/1-1: nuking all URBs",
		"usb_unbind_device /sys/devices/usb1/1-1: driver=usb",
		"usb_disconnect /sys/devices/usb1/1-1: release_devnum 2, put_device",
		"usb_release_dev /sys/devices/usb1/1-1",
		"usb_unbind_interface /sys/devices/usb1/usb1:1.0: unbound",
	}, usbEvents(sys, seq))

	// The whole of usb_disconnect, down to the last put of the child,
	// happens inside the hub's unbind: before its devres is released and
	// its "unbind" uevent is sent.
	requireInOrder(t, allEvents(sys, seq),
		"unbind_store /sys/devices/usb1/usb1:1.0: driver=hub",
		"__device_release_driver /sys/devices/usb1/usb1:1.0: driver=hub",
		"hub_disconnect /sys/devices/usb1/usb1:1.0",
		"usb_disconnect /sys/devices/usb1/1-1: USB disconnect",
		"device_del /sys/devices/usb1/1-1/1-1:1.0",
		"__device_release_driver /sys/devices/usb1/1-1/1-1:1.0: driver=int",
		"usb_hcd_giveback_urb /sys/devices/usb1/1-1: urb 1 ep83 status=-ESHUTDOWN",
		"kfree: int buffer",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: driver->disconnect",
		"device_release /sys/devices/usb1/1-1/1-1:1.0",
		"device_del /sys/devices/usb1/1-1",
		"__device_release_driver /sys/devices/usb1/1-1: driver=usb",
		"device_release /sys/devices/usb1/1-1",
		"usb_unbind_interface /sys/devices/usb1/usb1:1.0: unbound",
		"devres_release_all /sys/devices/usb1/usb1:1.0",
		"kobject_uevent /sys/devices/usb1/usb1:1.0: unbind",
	)

	assert.Equal(t, []string{"disconnect 1-1:1.0 after -ESHUTDOWN"}, rec.get())
	assert.Equal(t, []error{usbsim.ErrShutdown}, d.got(), "the URB completed once")
	assert.True(t, d.buf.Object().Freed())
	assert.Empty(t, u.Memory().Reports())
	assert.Equal(t, 0, h.Pending())

	// No leak: the child and its interface are gone and released; the
	// root hub and its (now unbound) interface stay.
	gone(t, u, child.Dev(), childIntf.Dev())
	assert.Equal(t, usbsim.StateNotAttached, child.State())
	assert.Nil(t, root.Child(1))
	assert.Equal(t, []string{"usb1", "usb1:1.0"}, busNames(sys))
	assert.Nil(t, hubIntf.Driver())
	assert.Equal(t, usbsim.Unbound, hubIntf.Condition())
	assert.Equal(t, usbsim.StateConfigured, root.State(), "only the hub driver went; the root hub is still configured")
	assert.Equal(t, "usb", root.Dev().DriverName())

	// The device is still plugged in: only its usb_device went. The port
	// is taken, and the stale usb_device cannot be disconnected again.
	assert.Same(t, g, root.Connected(1))
	_, err = root.Plug(1, intGadget(usbsim.NewLoopback(0)))
	assert.ErrorIs(t, err, usbsim.ErrBusy)
	assert.ErrorIs(t, child.Disconnect(), usbsim.ErrNoDevice)

	// bind hub usb1:1.0: hub_probe -> hub_activate(HUB_INIT) finds port 1
	// connected with no usb_device and kicks the hub_wq, whose hub_event
	// enumerates it again: a new usb_device, a new device number, the
	// interface driver probes again. drvsim runs the hub_wq work when the
	// outermost USB core call (here the hub's usb_probe_interface)
	// returns, and says so.
	seq = sys.Log().Seq()
	require.NoError(t, sys.Bind(hubIntf.Dev(), "hub"))
	ev := usbEvents(sys, seq)
	require.GreaterOrEqual(t, len(ev), 6)
	assert.Equal(t, []string{
		"usb_probe_interface /sys/devices/usb1/usb1:1.0: driver=hub, matched id flags=0x0010 v0000p0000 d09 i00/00/00",
		"hub_probe /sys/devices/usb1/usb1:1.0: 4 port(s) detected",
		"hub_activate /sys/devices/usb1/usb1:1.0: HUB_INIT: port 1: connection, no device: change bit set, kick_hub_wq",
		"hub_event /sys/devices/usb1/usb1:1.0: port 1: connect change (hub_wq work, run inline as usb_probe_interface usb1:1.0 returns)",
		"hub_port_connect /sys/devices/usb1: port 1: new device aaaa:bbbb",
		"usb_alloc_dev /sys/devices/usb1/1-1: port 1",
	}, ev[:6])
	requireInOrder(t, allEvents(sys, seq),
		"bind_store /sys/devices/usb1/usb1:1.0: driver=hub",
		"hub_probe /sys/devices/usb1/usb1:1.0",
		"hub_event /sys/devices/usb1/usb1:1.0",
		"usb_new_device /sys/devices/usb1/1-1: New USB device found, idVendor=aaaa, idProduct=bbbb, device number 3",
		"usb_probe_interface /sys/devices/usb1/1-1/1-1:1.0: driver=int",
		"driver_bound /sys/devices/usb1/1-1/1-1:1.0: driver=int",
		"driver_bound /sys/devices/usb1/1-1: driver=usb",
		"driver_bound /sys/devices/usb1/usb1:1.0: driver=hub",
	)
	again := root.Child(1)
	require.NotNil(t, again)
	assert.NotSame(t, child, again)
	assert.Same(t, g, again.Gadget())
	assert.Equal(t, "1-1", again.Name())
	assert.Equal(t, 3, again.Devnum())
	assert.Equal(t, "int", again.Interface(0).Dev().DriverName())
	assert.True(t, d.urb.InFlight())
	assert.Empty(t, u.Memory().Reports())
}

// A device plugged into a hub whose hub driver is unbound is connected but
// not enumerated (no hub_wq watches the port); binding the hub driver
// enumerates it. A device pulled out of such a port has no usb_device:
// nothing to disconnect, and binding the hub driver finds the port empty.
func TestPlugUnplugUnwatchedPorts(t *testing.T) {
	sys, _, root, rec := newRecordingUSB(t)
	hubIntf := root.Interface(0)
	require.NoError(t, sys.Unbind(hubIntf.Dev()))

	g2, g3 := usbsim.BulkGadget(0xfff0, 0xfff0, 64, nil), usbsim.BulkGadget(0xfff0, 0xfff0, 64, nil)
	seq := sys.Log().Seq()
	d, err := root.Plug(2, g2)
	assert.Nil(t, d)
	assert.ErrorIs(t, err, usbsim.ErrNotEnumerated)
	assert.ErrorIs(t, err, usbsim.ErrNoDevice)
	_, err = root.Plug(3, g3)
	assert.ErrorIs(t, err, usbsim.ErrNotEnumerated)
	_, err = root.Plug(4, g2)
	assert.ErrorIs(t, err, usbsim.ErrBusy, "a gadget is plugged in at one port at a time")
	assert.Same(t, g2, root.Connected(2))
	assert.Nil(t, root.Child(2))
	require.NoError(t, root.Unplug(3), "the cable can be pulled; there is no usb_device to disconnect")
	assert.ErrorIs(t, root.Unplug(3), usbsim.ErrNoDevice, "nothing plugged in any more")
	assert.Equal(t, []string{
		"hardware /sys/devices/usb1: port 2: fff0:fff0 plugged in; no hub driver bound: nothing enumerates it",
		"hardware /sys/devices/usb1: port 3: fff0:fff0 plugged in; no hub driver bound: nothing enumerates it",
		"hardware /sys/devices/usb1: port 3: fff0:fff0 unplugged; no usb_device on the port: nothing to disconnect",
	}, usbEvents(sys, seq))
	assert.Empty(t, rec.get())

	seq = sys.Log().Seq()
	require.NoError(t, sys.Bind(hubIntf.Dev(), "hub"))
	requireInOrder(t, usbEvents(sys, seq),
		"hub_probe /sys/devices/usb1/usb1:1.0: 4 port(s) detected",
		"hub_activate /sys/devices/usb1/usb1:1.0: HUB_INIT: port 2: connection, no device: change bit set, kick_hub_wq",
		"hub_event /sys/devices/usb1/usb1:1.0: port 2: connect change (hub_wq work, run inline as usb_probe_interface usb1:1.0 returns)",
		"hub_port_connect /sys/devices/usb1: port 2: new device fff0:fff0",
		"usb_probe_interface /sys/devices/usb1/1-2/1-2:1.0: driver=t",
	)
	assert.Equal(t, []string{"probe 1-2:1.0"}, rec.get())
	require.NotNil(t, root.Child(2))
	assert.Nil(t, root.Child(3))
	assert.Same(t, g2, root.Child(2).Gadget())
	assert.Equal(t, []string{"usb1", "usb1:1.0", "1-2", "1-2:1.0"}, busNames(sys))

	// a watched port again: unplug disconnects
	require.NoError(t, root.Unplug(2))
	assert.Equal(t, []string{"probe 1-2:1.0", "disconnect 1-2:1.0"}, rec.get())
	assert.Nil(t, root.Connected(2))
}

// A hub unplugged with a device on its port keeps it (it is the same
// hardware); plugged in again, anywhere, the hub enumerates it: the
// hub_wq work its hub_activate queued runs when Plug returns from the
// hub's own enumeration.
func TestReplugHubWithDeviceBehindIt(t *testing.T) {
	sys, _, root, rec := newRecordingUSB(t)
	hg := usbsim.HubGadget(4)
	hub, err := root.Plug(1, hg)
	require.NoError(t, err)
	dg := usbsim.BulkGadget(0xfff0, 0xfff0, 64, nil)
	_, err = hub.Plug(3, dg)
	require.NoError(t, err)
	require.NoError(t, root.Unplug(1))
	assert.Equal(t, []string{"probe 1-1.3:1.0", "disconnect 1-1.3:1.0"}, rec.get())
	assert.Same(t, dg, hub.Connected(3), "still plugged into the hub")
	_, err = hub.Plug(2, usbsim.BulkGadget(1, 2, 8, nil))
	assert.ErrorIs(t, err, usbsim.ErrNoDevice, "the hub's usb_device is gone")

	seq := sys.Log().Seq()
	hub2, err := root.Plug(4, hg)
	require.NoError(t, err)
	assert.Equal(t, "1-4", hub2.Name())
	requireInOrder(t, usbEvents(sys, seq),
		"hub_port_connect /sys/devices/usb1: port 4: new device 05e3:0608",
		"hub_probe /sys/devices/usb1/1-4/1-4:1.0: 4 port(s) detected",
		"hub_activate /sys/devices/usb1/1-4/1-4:1.0: HUB_INIT: port 3: connection, no device: change bit set, kick_hub_wq",
		"hub_event /sys/devices/usb1/1-4/1-4:1.0: port 3: connect change (hub_wq work, run inline as hub_port_connect usb1 returns)",
		"hub_port_connect /sys/devices/usb1/1-4: port 3: new device fff0:fff0",
		"usb_probe_interface /sys/devices/usb1/1-4/1-4.3/1-4.3:1.0: driver=t",
	)
	assert.Equal(t, []string{"probe 1-1.3:1.0", "disconnect 1-1.3:1.0", "probe 1-4.3:1.0"}, rec.get())
	require.NotNil(t, hub2.Child(3))

	// pulling the hub takes both usb_devices away; the device stays on it
	require.NoError(t, root.Unplug(4))
	assert.Equal(t, []string{"usb1", "usb1:1.0"}, busNames(sys))
	assert.Same(t, dg, hub2.Connected(3))
	// and can be taken off the unplugged hub: no usb_device, nothing to do
	require.NoError(t, hub2.Unplug(3))
	assert.Nil(t, hub2.Connected(3))
}

// Unbinding the generic driver "usb" from the root hub deconfigures it
// (usb_set_configuration(udev, -1)): its interface is deleted, whose hub
// driver's disconnect disconnects the child, before the interface is
// released and the root hub goes back to the addressed state. bind usb
// usb1 configures it again and the hub driver binds to the new interface.
func TestDeconfigureHubDisconnectsChild(t *testing.T) {
	sys, u, root, rec := newRecordingUSB(t)
	child, err := root.Plug(2, usbsim.BulkGadget(0xfff0, 0xfff0, 64, nil))
	require.NoError(t, err)
	childIntf := child.Interface(0)
	hubIntf := root.Interface(0)

	seq := sys.Log().Seq()
	require.NoError(t, sys.Unbind(root.Dev()))
	requireInOrder(t, allEvents(sys, seq),
		"unbind_store /sys/devices/usb1: driver=usb",
		"usb_unbind_device /sys/devices/usb1: driver=usb",
		"usb_set_configuration /sys/devices/usb1: config -1 (deconfigure)",
		"device_del /sys/devices/usb1/usb1:1.0",
		"hub_disconnect /sys/devices/usb1/usb1:1.0",
		"hub_quiesce /sys/devices/usb1/usb1:1.0: HUB_DISCONNECT: disconnecting 1 child device(s)",
		"usb_disconnect /sys/devices/usb1/1-2: USB disconnect, device number 2",
		"usb_unbind_interface /sys/devices/usb1/1-2/1-2:1.0: driver->disconnect",
		"usb_release_interface /sys/devices/usb1/1-2/1-2:1.0",
		"usb_release_dev /sys/devices/usb1/1-2",
		"usb_unbind_interface /sys/devices/usb1/usb1:1.0: unbound",
		"usb_release_interface /sys/devices/usb1/usb1:1.0",
		"usb_set_device_state /sys/devices/usb1: configured -> addressed",
		"kobject_uevent /sys/devices/usb1: unbind",
	)
	assert.Equal(t, []string{"probe 1-2:1.0", "disconnect 1-2:1.0"}, rec.get())
	gone(t, u, child.Dev(), childIntf.Dev(), hubIntf.Dev())
	assert.Equal(t, []string{"usb1"}, busNames(sys))
	assert.Equal(t, usbsim.StateAddress, root.State())
	assert.Empty(t, root.Interfaces())
	assert.NotNil(t, root.Connected(2), "still plugged in")

	// bind usb usb1: the root hub is configured again, the hub driver
	// binds to its new interface and hub_activate finds port 2 connected;
	// the hub_wq work runs when the root hub's usb_probe_device returns,
	// after the hub interface's bind is complete.
	seq = sys.Log().Seq()
	require.NoError(t, sys.Bind(root.Dev(), "usb"))
	requireInOrder(t, allEvents(sys, seq),
		"usb_probe_device /sys/devices/usb1: driver=usb",
		"hub_activate /sys/devices/usb1/usb1:1.0: HUB_INIT: port 2: connection",
		"driver_bound /sys/devices/usb1/usb1:1.0: driver=hub",
		"hub_event /sys/devices/usb1/usb1:1.0: port 2: connect change (hub_wq work, run inline as usb_probe_device usb1 returns)",
		"hub_port_connect /sys/devices/usb1: port 2: new device fff0:fff0",
		"driver_bound /sys/devices/usb1/1-2/1-2:1.0: driver=t",
		"driver_bound /sys/devices/usb1: driver=usb",
	)
	assert.Equal(t, usbsim.StateConfigured, root.State())
	require.NotNil(t, root.Interface(0))
	assert.Equal(t, "hub", root.Interface(0).Dev().DriverName())
	require.NotNil(t, root.Child(2))
	assert.Equal(t, []string{"probe 1-2:1.0", "disconnect 1-2:1.0", "probe 1-2:1.0"}, rec.get())
}

// An external hub on root port 1 with a device on its port 2: unbinding the
// hub driver from the root hub's interface disconnects the external hub,
// whose usb_disconnect takes the grandchild first (hub_disconnect_children),
// then the external hub's own interface (its hub_disconnect finds its ports
// empty), then the external hub.
func TestUnbindRootHubDriverWithExternalHub(t *testing.T) {
	sys, u, root, rec := newRecordingUSB(t)
	hub, err := root.Plug(1, usbsim.HubGadget(4))
	require.NoError(t, err)
	grand, err := hub.Plug(2, usbsim.BulkGadget(0xfff0, 0xfff0, 64, nil))
	require.NoError(t, err)
	devs := []*device.Device{grand.Dev(), grand.Interface(0).Dev(), hub.Dev(), hub.Interface(0).Dev()}

	seq := sys.Log().Seq()
	require.NoError(t, sys.Unbind(root.Interface(0).Dev()))
	assert.Equal(t, []string{
		"usb_unbind_interface /sys/devices/usb1/usb1:1.0: driver=hub soft_unbind=false device_gone=false",
		"usb_disable_interface /sys/devices/usb1/usb1:1.0: terminating URBs",
		"usb_unbind_interface /sys/devices/usb1/usb1:1.0: driver->disconnect",
		"hub_disconnect /sys/devices/usb1/usb1:1.0",
		"hub_quiesce /sys/devices/usb1/usb1:1.0: HUB_DISCONNECT: disconnecting 1 child device(s)",
		"usb_set_device_state /sys/devices/usb1/1-1: configured -> not attached",
		"usb_set_device_state /sys/devices/usb1/1-1/1-1.2: configured -> not attached",
		"usb_disconnect /sys/devices/usb1/1-1: USB disconnect, device number 2",
		"hub_disconnect_children /sys/devices/usb1/1-1: 4 port(s)",
		// the grandchild first
		"usb_disconnect /sys/devices/usb1/1-1/1-1.2: USB disconnect, device number 3",
		"usb_disconnect /sys/devices/usb1/1-1/1-1.2: unregistering device",
		"usb_disable_device /sys/devices/usb1/1-1/1-1.2",
		"usb_disable_device /sys/devices/usb1/1-1/1-1.2: unregistering interface 1-1.2:1.0",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1.2/1-1.2:1.0: driver=t soft_unbind=false device_gone=true",
		"usb_disable_interface /sys/devices/usb1/1-1/1-1.2/1-1.2:1.0: terminating URBs",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1.2/1-1.2:1.0: driver->disconnect",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1.2/1-1.2:1.0: unbound",
		"usb_release_interface /sys/devices/usb1/1-1/1-1.2/1-1.2:1.0",
		"usb_disable_device /sys/devices/usb1/1-1/1-1.2: nuking all URBs",
		"usb_unbind_device /sys/devices/usb1/1-1/1-1.2: driver=usb",
		"usb_disconnect /sys/devices/usb1/1-1/1-1.2: release_devnum 3, put_device",
		"usb_release_dev /sys/devices/usb1/1-1/1-1.2",
		// then the external hub: its interface (ports already empty) ...
		"usb_disconnect /sys/devices/usb1/1-1: unregistering device",
		"usb_disable_device /sys/devices/usb1/1-1",
		"usb_disable_device /sys/devices/usb1/1-1: unregistering interface 1-1:1.0",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: driver=hub soft_unbind=false device_gone=true",
		"usb_disable_interface /sys/devices/usb1/1-1/1-1:1.0: terminating URBs",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: driver->disconnect",
		"hub_disconnect /sys/devices/usb1/1-1/1-1:1.0",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: unbound",
		"usb_release_interface /sys/devices/usb1/1-1/1-1:1.0",
		// ... and the device
		"usb_disable_device /sys/devices/usb1/1-1: nuking all URBs",
		"usb_unbind_device /sys/devices/usb1/1-1: driver=usb",
		"usb_disconnect /sys/devices/usb1/1-1: release_devnum 2, put_device",
		"usb_release_dev /sys/devices/usb1/1-1",
		// only now does the root hub's unbind complete
		"usb_unbind_interface /sys/devices/usb1/usb1:1.0: unbound",
	}, usbEvents(sys, seq))
	assert.Equal(t, []string{"probe 1-1.2:1.0", "disconnect 1-1.2:1.0"}, rec.get())
	gone(t, u, devs...)
	assert.Equal(t, []string{"usb1", "usb1:1.0"}, busNames(sys))
}

// Unbinding the hub driver from the external hub's own interface
// disconnects the devices on its ports, port by port, and leaves the hub
// (configured, its interface unbound); unplugging the hub afterwards finds
// nothing below it and no hub driver to call.
func TestUnbindExternalHubDriver(t *testing.T) {
	sys, u, root, rec := newRecordingUSB(t)
	hub, err := root.Plug(1, usbsim.HubGadget(4))
	require.NoError(t, err)
	g4, err := hub.Plug(4, usbsim.BulkGadget(0xfff0, 0xfff0, 64, nil))
	require.NoError(t, err)
	g2, err := hub.Plug(2, usbsim.BulkGadget(0xfff0, 0xfff0, 64, nil))
	require.NoError(t, err)
	grandDevs := []*device.Device{g2.Dev(), g2.Interface(0).Dev(), g4.Dev(), g4.Interface(0).Dev()}
	hubIntf := hub.Interface(0)

	seq := sys.Log().Seq()
	require.NoError(t, sys.Unbind(hubIntf.Dev()))
	requireInOrder(t, usbEvents(sys, seq),
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: driver=hub soft_unbind=false device_gone=false",
		"hub_disconnect /sys/devices/usb1/1-1/1-1:1.0",
		"hub_quiesce /sys/devices/usb1/1-1/1-1:1.0: HUB_DISCONNECT: disconnecting 2 child device(s)",
		// port 2 (plugged last) before port 4
		"usb_disconnect /sys/devices/usb1/1-1/1-1.2: USB disconnect, device number 4",
		"usb_release_dev /sys/devices/usb1/1-1/1-1.2",
		"usb_disconnect /sys/devices/usb1/1-1/1-1.4: USB disconnect, device number 3",
		"usb_release_dev /sys/devices/usb1/1-1/1-1.4",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: unbound",
	)
	assert.Equal(t, []string{"probe 1-1.4:1.0", "probe 1-1.2:1.0", "disconnect 1-1.2:1.0", "disconnect 1-1.4:1.0"}, rec.get())
	gone(t, u, grandDevs...)
	assert.Equal(t, usbsim.StateConfigured, hub.State())
	assert.Nil(t, hubIntf.Driver())
	assert.Same(t, hub, root.Child(1))
	_, err = hub.Plug(1, usbsim.BulkGadget(0xfff0, 0xfff0, 64, nil))
	assert.ErrorIs(t, err, usbsim.ErrNotEnumerated, "no hub driver watches the hub's ports")
	assert.NotNil(t, hub.Connected(2), "the disconnected devices are still plugged in")

	// Unplug the hub now: no hub driver, no children.
	hubDevs := []*device.Device{hub.Dev(), hubIntf.Dev()}
	seq = sys.Log().Seq()
	require.NoError(t, root.Unplug(1))
	ev := usbEvents(sys, seq)
	for _, l := range ev {
		assert.NotRegexp(t, `^hub_(disconnect|quiesce)`, l, "no hub driver bound, no ports walked")
	}
	gone(t, u, hubDevs...)
	assert.Equal(t, []string{"usb1", "usb1:1.0"}, busNames(sys))
	assert.Len(t, rec.get(), 4)
}

// A hub unbind racing an unplug of the device on its port, in every
// interleaving: whichever gets to the child first disconnects it, the
// other finds it claimed (usb_disconnect runs once per device); the URB
// completes once, nothing is warned about, everything is released.
func TestUnbindHubRacingUnplugExhaustive(t *testing.T) {
	exploreHubRace(t, func(s *sim.Sim, c *bus.Core, u *usbsim.USB, root *usbsim.Device) {
		d := &intDriver{}
		if err := u.Register(d.driver(u)); err != nil {
			panic(err)
		}
		child, err := root.Plug(1, intGadget(usbsim.NewLoopback(0)))
		if err != nil {
			panic(err)
		}
		devs := []*device.Device{child.Dev(), child.Interface(0).Dev()}
		hubIntf := root.Interface(0).Dev()
		s.Go("unbind", func() {
			if err := c.Unbind(hubIntf); err != nil {
				panic(err)
			}
		})
		s.Go("unplug", func() {
			if err := root.Unplug(1); err != nil && !errors.Is(err, usbsim.ErrNoDevice) {
				panic(err)
			}
		})
		s.AddLeakCheck("hub unbind vs unplug", func() []string {
			var bad []string
			for _, dv := range devs {
				if dv.IsRegistered() || !dv.Released() {
					bad = append(bad, dv.Path()+" not deleted and released")
				}
			}
			if root.Child(1) != nil {
				bad = append(bad, "port 1 still occupied")
			}
			if got := d.got(); len(got) != 1 || !errors.Is(got[0], usbsim.ErrShutdown) {
				bad = append(bad, fmt.Sprintf("URB completions %v, want one -ESHUTDOWN", got))
			}
			return append(bad, warnings(s)...)
		})
	})
}

// newRecordingUSB is newUSB with a recorder driver "t" registered for
// fff0:fff0 devices; it returns the root hub.
func newRecordingUSB(t *testing.T) (*drvsim.System, *usbsim.USB, *usbsim.Device, *recorder) {
	t.Helper()
	sys, u, h := newUSB(t)
	rec := &recorder{}
	require.NoError(t, u.Register(rec.driver("t", usbsim.ID(0xfff0, 0xfff0))))
	return sys, u, h.RootHub(), rec
}

// exploreHubRace explores scenario exhaustively with at most two
// preemptions. Every run gets a fresh driver core, scheduled by the run,
// with the USB core on it and a host controller whose root hub has two
// ports; the cores are closed when the test ends.
func exploreHubRace(t *testing.T, scenario func(s *sim.Sim, c *bus.Core, u *usbsim.USB, root *usbsim.Device)) {
	t.Helper()
	var cores []*bus.Core
	defer func() {
		for _, c := range cores {
			c.Close()
		}
	}()
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 100000, MaxPreemptions: 2,
		Config: sim.EnvConfig(t.Name(), 0)}, func(s *sim.Sim) {
		c := bus.NewCore(s.Env())
		cores = append(cores, c)
		u, err := usbsim.Init(c)
		if err != nil {
			panic(err)
		}
		h, err := u.AddHCD(2)
		if err != nil {
			panic(err)
		}
		scenario(s, c, u, h.RootHub())
	})
	require.False(t, res.Failed(), res.String())
	assert.True(t, res.Exhausted)
	t.Logf("%s", res)
}

// warnings lists the WARN events of a run, for a leak check.
func warnings(s *sim.Sim) []string {
	var out []string
	for _, e := range trace.Filter(s.Log().Events(), trace.OfKind(trace.Warn)) {
		out = append(out, "warning: "+e.Short())
	}
	return out
}

// Binding the hub driver again (its hub_wq work enumerating the device
// still plugged in) racing the cable being pulled, in every interleaving:
// the device is enumerated and disconnected again, or never enumerated;
// either way nothing is left on the port or the bus, the hub is bound, and
// nothing is warned about.
func TestRebindHubRacingUnplugExhaustive(t *testing.T) {
	exploreHubRace(t, func(s *sim.Sim, c *bus.Core, u *usbsim.USB, root *usbsim.Device) {
		var rec recorder
		if err := u.Register(rec.driver("t", usbsim.ID(0xfff0, 0xfff0))); err != nil {
			panic(err)
		}
		if _, err := root.Plug(1, usbsim.BulkGadget(0xfff0, 0xfff0, 64, usbsim.NewLoopback(0))); err != nil {
			panic(err)
		}
		hubIntf := root.Interface(0).Dev()
		if err := c.Unbind(hubIntf); err != nil {
			panic(err)
		}
		s.Go("bind", func() {
			if err := c.Bind(hubIntf, "hub"); err != nil {
				panic(err)
			}
		})
		s.Go("unplug", func() {
			if err := root.Unplug(1); err != nil {
				panic(err)
			}
		})
		s.AddLeakCheck("hub rebind vs unplug", func() []string {
			var bad []string
			if root.Child(1) != nil || root.Connected(1) != nil {
				bad = append(bad, "port 1 not empty")
			}
			var names []string
			for _, d := range c.BusDevices(usbsim.BusName) {
				names = append(names, d.Name())
			}
			if fmt.Sprint(names) != "[usb1 usb1:1.0]" {
				bad = append(bad, fmt.Sprintf("devices left: %v", names))
			}
			if hubIntf.DriverName() != "hub" {
				bad = append(bad, "hub driver not bound")
			}
			probes, disconnects := 0, 0
			for _, call := range rec.get() {
				switch {
				case strings.HasPrefix(call, "probe"):
					probes++
				case strings.HasPrefix(call, "disconnect"):
					disconnects++
				}
			}
			if probes != disconnects || probes < 1 || probes > 2 {
				bad = append(bad, fmt.Sprintf("driver calls %v", rec.get()))
			}
			return append(bad, warnings(s)...)
		})
	})
}

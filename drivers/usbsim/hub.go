package usbsim

import (
	"fmt"
)

// newHubDriver returns the hub interface driver (hub_driver in hub.c): it
// binds to class-9 interfaces and powers the hub's ports. Its disconnect
// (hub_disconnect) first stops the ports (no new device is accepted), then
// disconnects every device still on them (hub_quiesce(HUB_DISCONNECT)), so
// unbinding the hub driver from a hub's interface, or deconfiguring the hub
// (unbinding the generic driver from it), takes everything below it away
// before the unbind completes.
func newHubDriver() *Driver {
	d := &Driver{Name: "hub", IDTable: []DeviceID{
		{Flags: MatchDevClass, DevClass: ClassHub},
		{Flags: MatchIntClass, IntClass: ClassHub},
	}}
	d.Probe = func(intf *Interface, _ DeviceID) error {
		udev := intf.udev
		u := intf.u
		u.mu.Lock()
		udev.hubUp = true
		n := len(udev.children)
		u.mu.Unlock()
		u.emit(KindHub, intf.Path(), "hub_probe", fmt.Sprintf("%d port(s) detected", n))
		return nil
	}
	d.Disconnect = func(intf *Interface) {
		u := intf.u
		u.mu.Lock()
		intf.udev.hubUp = false // hub->disconnected: no new connections
		u.mu.Unlock()
		u.emit(KindHub, intf.Path(), "hub_disconnect", "")
		u.hubQuiesce(intf)
	}
	return d
}

// hubQuiesce is hub_quiesce(hub, HUB_DISCONNECT): every device still on a
// port of the hub behind intf is disconnected (usb_disconnect, children
// and their interfaces first), port by port. When the hub itself is being
// disconnected its ports are already empty (usb_disconnect ran
// hub_disconnect_children) and nothing is recorded; the children are there
// when only the hub driver goes (unbind, deconfiguration).
func (u *USB) hubQuiesce(intf *Interface) {
	hdev := intf.udev
	u.mu.Lock()
	ports, n := len(hdev.children), 0
	for _, c := range hdev.children {
		if c != nil {
			n++
		}
	}
	u.mu.Unlock()
	if n == 0 {
		return
	}
	u.emit(KindHub, intf.Path(), "hub_quiesce", fmt.Sprintf("HUB_DISCONNECT: disconnecting %d child device(s)", n))
	for port := 1; port <= ports; port++ {
		if c := hdev.Child(port); c != nil {
			u.disconnect(c)
		}
	}
}

// Plug connects g to port (1-based) of the hub d: hub_port_connect. The
// device is allocated and addressed (usb_alloc_dev, usb_set_address),
// occupies the port, and is registered (usb_new_device): the generic
// driver configures it and its interfaces bind. Errors: ErrInvalid for a
// bad port or a device that is not a hub, ErrBusy for an occupied port,
// ErrNoDevice when the hub is not (or no longer) active.
func (d *Device) Plug(port int, g *Gadget) (*Device, error) {
	u := d.u
	if g == nil {
		return nil, fmt.Errorf("hub_port_connect %s: no gadget: %w", d.Name(), ErrInvalid)
	}
	u.mu.Lock()
	switch {
	case len(d.children) == 0:
		u.mu.Unlock()
		return nil, fmt.Errorf("hub_port_connect %s: not a hub: %w", d.Name(), ErrInvalid)
	case port < 1 || port > len(d.children):
		u.mu.Unlock()
		return nil, fmt.Errorf("hub_port_connect %s: no port %d: %w", d.Name(), port, ErrInvalid)
	case d.children[port-1] != nil:
		u.mu.Unlock()
		return nil, fmt.Errorf("hub_port_connect %s: port %d in use: %w", d.Name(), port, ErrBusy)
	case !d.hubUp || d.state == StateNotAttached || d.hcd.dead:
		u.mu.Unlock()
		return nil, fmt.Errorf("hub_port_connect %s: hub not active: %w", d.Name(), ErrNoDevice)
	}
	u.mu.Unlock()
	u.emit(KindHub, d.Path(), "hub_port_connect", fmt.Sprintf("port %d: new device %04x:%04x", port, g.Desc.VendorID, g.Desc.ProductID))
	child := u.allocDev(d.hcd, d, port, g)
	u.mu.Lock()
	d.children[port-1] = child
	u.mu.Unlock()
	if err := u.newDevice(child); err != nil {
		u.mu.Lock()
		d.children[port-1] = nil
		u.mu.Unlock()
		return nil, err
	}
	return child, nil
}

// Unplug disconnects whatever is on port of the hub d
// (hub_port_connect_change finding the port empty, then usb_disconnect).
// It returns ErrNoDevice when the port is empty.
func (d *Device) Unplug(port int) error {
	child := d.Child(port)
	if child == nil {
		return fmt.Errorf("hub_port_connect_change %s: nothing on port %d: %w", d.Name(), port, ErrNoDevice)
	}
	d.u.emit(KindHub, d.Path(), "hub_port_connect_change", fmt.Sprintf("port %d: connect change, device gone", port))
	d.u.disconnect(child)
	return nil
}

// Disconnect unplugs d from its parent's port (Unplug on the parent).
// For a root hub use HCD.Remove.
func (d *Device) Disconnect() error {
	if d.parent == nil {
		return fmt.Errorf("usb_disconnect %s: a root hub goes with its controller: %w", d.Name(), ErrInvalid)
	}
	return d.parent.Unplug(d.port)
}

// disconnect is usb_disconnect: mark the device (and everything below)
// NOTATTACHED, lock it, disconnect the children port by port
// (hub_disconnect_children), disable the device (usb_disable_device:
// interfaces unbound and deleted, endpoints disabled), unlock, device_del
// it, free its port and drop the last reference. It runs once per device:
// a second caller (a hub unbind racing an unplug of the same port, which
// the kernel serialises on the hub's device lock) returns at once.
func (u *USB) disconnect(d *Device) {
	u.mu.Lock()
	again := d.gone
	d.gone = true
	u.mu.Unlock()
	if again {
		return
	}
	u.emit(KindHub, d.Path(), "usb_disconnect", fmt.Sprintf("USB disconnect, device number %d", d.devnum))
	u.setState(d, StateNotAttached)
	locked := d.dev.Lock() == nil // usb_lock_device
	u.mu.Lock()
	kids := append([]*Device(nil), d.children...)
	up := d.hubUp // else hub_disconnect set maxchild to 0: no ports to walk
	u.mu.Unlock()
	if len(kids) > 0 && up {
		u.emit(KindHub, d.Path(), "hub_disconnect_children", fmt.Sprintf("%d port(s)", len(kids)))
	}
	for _, c := range kids {
		if c != nil {
			u.disconnect(c)
		}
	}
	u.disableDevice(d)
	if locked {
		_ = d.dev.Unlock()
	}
	u.emit(KindHub, d.Path(), "usb_disconnect", "unregistering device")
	if err := u.core.DeleteDevice(d.dev); err != nil {
		u.emit(KindHub, d.Path(), "usb_disconnect", "device_del: "+Errno(err))
	}
	if p := d.parent; p != nil {
		u.mu.Lock()
		if d.port >= 1 && d.port <= len(p.children) && p.children[d.port-1] == d {
			p.children[d.port-1] = nil
		}
		u.mu.Unlock()
	}
	u.emit(KindHub, d.Path(), "usb_disconnect", fmt.Sprintf("release_devnum %d, put_device", d.devnum))
	_ = d.dev.Put()
}

package usbsim

import (
	"fmt"

	"github.com/drvsim/drvsim/pm"
)

// newHubDriver returns the hub interface driver (hub_driver in hub.c): it
// binds to class-9 interfaces. Its probe (hub_probe -> hub_configure ->
// hub_activate(HUB_INIT)) powers the ports and flags every port that has
// a device connected but no usb_device, for the hub_wq to enumerate. Its
// disconnect (hub_disconnect) stops the port work (hub->disconnected),
// then disconnects every device still on the ports
// (hub_quiesce(HUB_DISCONNECT)), so unbinding the hub driver from a hub's
// interface, or deconfiguring the hub (unbinding the generic driver from
// it), takes everything below it away before the unbind completes. The
// devices stay plugged in: binding the hub driver again enumerates them
// again.
func newHubDriver() *Driver {
	d := &Driver{Name: "hub", IDTable: []DeviceID{
		{Flags: MatchDevClass, DevClass: ClassHub},
		{Flags: MatchIntClass, IntClass: ClassHub},
	}}
	d.Probe = func(intf *Interface, _ DeviceID) error {
		hdev := intf.udev
		u := intf.u
		if err := u.hubCheck(intf); err != nil {
			return err
		}
		u.mu.Lock()
		hdev.hubUp = true
		hdev.hubIntf = intf
		n := len(hdev.children)
		u.mu.Unlock()
		u.emit(KindHub, intf.Path(), "hub_probe", fmt.Sprintf("%d port(s) detected", n))
		u.hubActivate(hdev, intf)
		return nil
	}
	// hub_suspend and hub_resume: the ports' devices are suspended
	// before their hub (children first) and resumed after it; the hub's
	// own state needs nothing more here. Hubs do not autosuspend in
	// drvsim (their autosuspend stays forbidden): the hub_wq that would
	// resume a hub for a port event is run inline by Plug and Unplug.
	d.Suspend = func(intf *Interface) error {
		intf.u.emit(KindHub, intf.Path(), "hub_suspend", "")
		return nil
	}
	d.Resume = func(intf *Interface) error {
		intf.u.emit(KindHub, intf.Path(), "hub_resume", "")
		return nil
	}
	d.Disconnect = func(intf *Interface) {
		hdev := intf.udev
		u := intf.u
		u.mu.Lock()
		hdev.hubUp = false // hub->disconnected: no port work from now on
		for i := range hdev.change {
			hdev.change[i] = false
		}
		u.mu.Unlock()
		u.emit(KindHub, intf.Path(), "hub_disconnect", "")
		u.hubQuiesce(intf)
		u.mu.Lock()
		hdev.hubIntf = nil
		u.mu.Unlock()
	}
	return d
}

// hubCheck is what hub_probe and hub_configure refuse before the hub
// driver takes a hub: a hub at MaxTopoLevel ("hub nested too deep",
// -E2BIG), a hub with no ports or more than MaxChildren (-ENODEV). The
// device stays enumerated with its interface unbound, and nothing watches
// its ports: devices plugged into it are not enumerated.
func (u *USB) hubCheck(intf *Interface) error {
	hdev := intf.udev
	if hdev.level >= MaxTopoLevel {
		u.emit(KindHub, intf.Path(), "hub_probe", "Unsupported bus topology: hub nested too deep")
		return fmt.Errorf("hub_probe %s: level %d: hub nested too deep (at most %d tiers): %w", intf.Name(), hdev.level, MaxTopoLevel-1, ErrTooBig)
	}
	var why string
	switch n := hdev.gadget.HubPorts; {
	case n == 0:
		why = "hub doesn't have any ports!"
	case n > MaxChildren:
		why = "hub has too many ports!"
	default:
		return nil
	}
	u.emit(KindHub, intf.Path(), "hub_configure", fmt.Sprintf("config failed, %s (err -19)", why))
	return fmt.Errorf("hub_configure %s: %d ports (at most %d): %s: %w", intf.Name(), hdev.gadget.HubPorts, MaxChildren, why, ErrNoDevice)
}

// hubActivate is the port scan of hub_activate(HUB_INIT): every port with
// a device connected and no usb_device gets its change bit, and the hub's
// work is queued (kick_hub_wq). The work runs when the outermost USB core
// call returns (hubwq.go).
func (u *USB) hubActivate(hdev *Device, intf *Interface) {
	u.mu.Lock()
	var connected []int
	for i, g := range u.hwPortsLocked(hdev.gadget) {
		if g != nil && hdev.children[i] == nil {
			connected = append(connected, i+1)
		}
	}
	u.mu.Unlock()
	if len(connected) == 0 {
		return
	}
	u.emit(KindHub, intf.Path(), "hub_activate",
		fmt.Sprintf("HUB_INIT: port %s: connection, no device: change bit set, kick_hub_wq", portList(connected)))
	u.mu.Lock()
	for _, p := range connected {
		hdev.change[p-1] = true
	}
	u.kickHubWQLocked(hdev)
	u.mu.Unlock()
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

// hwPort is where a gadget is plugged in: a port of a hub gadget.
type hwPort struct {
	hub  *Gadget
	port int
}

// hwPortsLocked returns the downstream ports of the hub gadget g (what is
// plugged into each), nil if g is not a hub. Called with u.mu held.
func (u *USB) hwPortsLocked(g *Gadget) []*Gadget {
	p := u.ports[g]
	if p == nil && g.HubPorts > 0 {
		p = make([]*Gadget, g.HubPorts)
		u.ports[g] = p
	}
	return p
}

// Connected returns what is physically plugged into port (1-based) of the
// hub d, enumerated or not, or nil. A device stays connected until Unplug,
// whatever happens to its usb_device (a hub driver unbind disconnects the
// usb_device, not the cable).
func (d *Device) Connected(port int) *Gadget {
	u := d.u
	u.mu.Lock()
	defer u.mu.Unlock()
	hw := u.hwPortsLocked(d.gadget)
	if port < 1 || port > len(hw) {
		return nil
	}
	return hw[port-1]
}

// Plug plugs g into port (1-based) of the hub d. If the hub is watched (its
// hub driver is bound), the hub_wq's work for the port runs at once, in
// the caller: hub_port_connect allocates and addresses the device
// (usb_alloc_dev, usb_set_address) and registers it (usb_new_device): the
// generic driver configures it and its interfaces bind; Plug returns the
// new usb_device. If the hub driver is not bound, the gadget is connected
// but nothing enumerates it (no hub_wq watches the port): Plug returns
// ErrNotEnumerated (which also matches ErrNoDevice), and the device is
// enumerated when a hub driver binds to the hub (hub_activate). Other
// errors leave the port as it was: ErrInvalid for no gadget, a bad port or
// a device that is not a hub, ErrBusy for an occupied port or a gadget
// already plugged in elsewhere, ErrNoDevice when the hub itself is gone
// (disconnected, or its controller removed).
func (d *Device) Plug(port int, g *Gadget) (*Device, error) {
	u := d.u
	if g == nil {
		return nil, fmt.Errorf("hub_port_connect %s: no gadget: %w", d.Name(), ErrInvalid)
	}
	u.enter()
	defer u.exit("hub_port_connect " + d.Name())
	if g.HubPorts < 0 || g.HubPorts > maxHubPorts {
		return nil, fmt.Errorf("hub_port_connect %s: gadget %04x:%04x claims %d hub ports: a hub descriptor states 0 to %d: %w",
			d.Name(), g.Desc.VendorID, g.Desc.ProductID, g.HubPorts, maxHubPorts, ErrInvalid)
	}
	u.mu.Lock()
	hw := u.hwPortsLocked(d.gadget)
	var err error
	switch {
	case len(hw) == 0:
		err = fmt.Errorf("hub_port_connect %s: not a hub: %w", d.Name(), ErrInvalid)
	case port < 1 || port > len(hw):
		err = fmt.Errorf("hub_port_connect %s: no port %d: %w", d.Name(), port, ErrInvalid)
	case d.state == StateNotAttached || d.hcd.dead:
		err = fmt.Errorf("hub_port_connect %s: hub gone: %w", d.Name(), ErrNoDevice)
	case hw[port-1] != nil || d.children[port-1] != nil || d.busy[port-1]:
		err = fmt.Errorf("hub_port_connect %s: port %d in use: %w", d.Name(), port, ErrBusy)
	}
	if err == nil {
		if _, plugged := u.at[g]; plugged {
			err = fmt.Errorf("hub_port_connect %s: gadget %04x:%04x already plugged in: %w", d.Name(), g.Desc.VendorID, g.Desc.ProductID, ErrBusy)
		}
	}
	if err != nil {
		u.mu.Unlock()
		return nil, err
	}
	hw[port-1] = g
	u.at[g] = hwPort{hub: d.gadget, port: port}
	watched := d.hubUp
	u.mu.Unlock()
	if !watched {
		u.emit(KindPort, d.Path(), "hardware", fmt.Sprintf("port %d: %04x:%04x plugged in; no hub driver bound: nothing enumerates it",
			port, g.Desc.VendorID, g.Desc.ProductID))
		return nil, fmt.Errorf("plug %s port %d: %w (%w)", d.Name(), port, ErrNotEnumerated, ErrNoDevice)
	}
	return u.hubPortConnect(d, port, g)
}

// hubPortConnect is hub_port_connect for the gadget g on port of hub: the
// device is allocated and addressed, occupies the port and is registered.
// If the cable was pulled while the device was enumerated, the port's next
// event disconnects it again.
func (u *USB) hubPortConnect(hub *Device, port int, g *Gadget) (*Device, error) {
	u.mu.Lock()
	if u.hwPortsLocked(hub.gadget)[port-1] != g || hub.children[port-1] != nil || hub.busy[port-1] {
		u.mu.Unlock()
		return nil, fmt.Errorf("hub_port_connect %s: port %d in use: %w", hub.Name(), port, ErrBusy)
	}
	hub.busy[port-1] = true
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		hub.busy[port-1] = false
		u.mu.Unlock()
	}()
	u.emit(KindHub, hub.Path(), "hub_port_connect", fmt.Sprintf("port %d: new device %04x:%04x", port, g.Desc.VendorID, g.Desc.ProductID))
	child := u.allocDev(hub.hcd, hub, port, g)
	u.mu.Lock()
	hub.children[port-1] = child
	u.mu.Unlock()
	if err := u.newDevice(child); err != nil {
		u.mu.Lock()
		if hub.children[port-1] == child {
			hub.children[port-1] = nil
		}
		u.mu.Unlock()
		return nil, err
	}
	u.mu.Lock()
	still, gone := u.hwPortsLocked(hub.gadget)[port-1] == g, child.gone
	u.mu.Unlock()
	if !still {
		if !gone {
			u.emit(KindHub, hub.Path(), "hub_port_connect_change", fmt.Sprintf("port %d: connect change, device gone", port))
			u.disconnect(child)
		}
		return nil, fmt.Errorf("hub_port_connect %s: port %d: unplugged during enumeration: %w", hub.Name(), port, ErrNoDevice)
	}
	return child, nil
}

// Unplug pulls the cable of whatever is plugged into port of the hub d.
// If the hub is watched and the device was enumerated, the hub_wq's work
// runs at once, in the caller: hub_port_connect_change finds the port
// empty and usb_disconnect takes the device away. If no hub driver
// watches the port (the hub driver is unbound, or the hub is being
// disconnected), no kernel code sees the cable go: there is no usb_device
// to disconnect, or the hub's own disconnect (hub_quiesce, usb_disconnect)
// is taking it away; the trace records the hardware event only. Errors:
// ErrNoDevice when nothing is plugged in at port, ErrInvalid for a bad
// port or a device that is not a hub.
func (d *Device) Unplug(port int) error {
	u := d.u
	u.enter()
	defer u.exit("hub_port_connect_change " + d.Name())
	u.mu.Lock()
	hw := u.hwPortsLocked(d.gadget)
	if port < 1 || port > len(hw) {
		u.mu.Unlock()
		return fmt.Errorf("hub_port_connect_change %s: no port %d: %w", d.Name(), port, ErrInvalid)
	}
	g := hw[port-1]
	if g == nil {
		u.mu.Unlock()
		return fmt.Errorf("hub_port_connect_change %s: nothing on port %d: %w", d.Name(), port, ErrNoDevice)
	}
	hw[port-1] = nil
	delete(u.at, g)
	child, busy := d.children[port-1], d.busy[port-1]
	watched := d.hubUp && d.state != StateNotAttached && !d.hcd.dead
	u.mu.Unlock()
	id := fmt.Sprintf("port %d: %04x:%04x unplugged", port, g.Desc.VendorID, g.Desc.ProductID)
	switch {
	case busy:
		// hub_port_connect holds the port: the connect change is seen
		// when it is done (hubPortConnect checks the port again)
		u.emit(KindPort, d.Path(), "hardware", id+" while hub_wq enumerates it")
	case child != nil && watched:
		u.emit(KindHub, d.Path(), "hub_port_connect_change", fmt.Sprintf("port %d: connect change, device gone", port))
		u.disconnect(child)
	case child != nil:
		u.emit(KindPort, d.Path(), "hardware", id+"; no hub_wq watches the port: the hub's own disconnect takes the usb_device away")
	default:
		u.emit(KindPort, d.Path(), "hardware", id+"; no usb_device on the port: nothing to disconnect")
	}
	return nil
}

// Disconnect unplugs d from its parent's port (Unplug on the parent). It
// returns ErrNoDevice when d is no longer the usb_device on that port
// (already disconnected, for instance by a hub driver unbind). For a root
// hub use HCD.Remove.
func (d *Device) Disconnect() error {
	if d.parent == nil {
		return fmt.Errorf("usb_disconnect %s: a root hub goes with its controller: %w", d.Name(), ErrInvalid)
	}
	if d.parent.Child(d.port) != d {
		return fmt.Errorf("usb_disconnect %s: not on port %d of %s any more: %w", d.Name(), d.port, d.parent.Name(), ErrNoDevice)
	}
	return d.parent.Unplug(d.port)
}

// disconnect is usb_disconnect: mark the device (and everything below)
// NOTATTACHED, announce it, lock it, disconnect the children port by port
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
	u.setState(d, StateNotAttached)
	u.emit(KindHub, d.Path(), "usb_disconnect", fmt.Sprintf("USB disconnect, device number %d", d.devnum))
	pm.Barrier(d.dev)             // no runtime PM request runs past this point
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
	u.emit(KindHub, d.Path(), "usb_disconnect", "unregistering device")
	u.disableDevice(d, false)
	if locked {
		_ = d.dev.Unlock()
	}
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

package usbsim

import (
	"fmt"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/pm"
)

// Device is struct usb_device: one device on the bus (the root hub of a
// host controller, an external hub, a function), with its descriptors, its
// state, its endpoints, the interfaces of its active configuration and, for
// a hub, the devices on its ports. Its driver-model device (Dev) is bound
// to the generic "usb" device driver.
type Device struct {
	u      *USB
	hcd    *HCD
	dev    *device.Device
	parent *Device
	port   int
	level  int // hops from the root hub (udev->level): 0 for a root hub
	devnum int
	gadget *Gadget
	obj    *env.Object // struct usb_device, when checked (devmem.go)

	// guarded by u.mu
	state    State
	children []*Device  // by port-1, hubs only (port_dev->child)
	hubUp    bool       // hub_probe ran and hub_disconnect did not: the ports are watched
	hubIntf  *Interface // the interface the hub driver is bound to (hub->intfdev)
	change   []bool     // by port-1: hub->change_bits, for the hub_wq
	busy     []bool     // by port-1: hub_port_connect in progress (the port lock)
	queued   bool       // on u.wq (hub->event_list)
	gone     bool       // usb_disconnect claimed it: runs once
	intfs    []*Interface
	eps      []*endpoint // ep0 first, then the configuration's

	doRemoteWakeup  bool // do_remote_wakeup: enabled for the current suspend
	resetResume     bool // reset_resume: resumed through a reset
	resetInProgress bool
}

// Name returns the device's name: "usb1" for a root hub, "1-2" for the
// device on port 2 of bus 1's root hub, "1-2.4" for port 4 of that hub.
func (d *Device) Name() string { return d.dev.Name() }

// Dev returns the driver-model device (&udev->dev).
func (d *Device) Dev() *device.Device { return d.dev }

// Path returns the device's sysfs path.
func (d *Device) Path() string { return d.dev.Path() }

// USB returns the USB core the device belongs to.
func (d *Device) USB() *USB { return d.u }

// HCD returns the host controller the device is attached through.
func (d *Device) HCD() *HCD { return d.hcd }

// Parent returns the hub the device is plugged into, nil for a root hub.
func (d *Device) Parent() *Device { return d.parent }

// Port returns the parent hub's port number (portnum), 0 for a root hub.
func (d *Device) Port() int { return d.port }

// Level returns the device's depth in the topology (udev->level): 0 for
// a root hub, 1 for a device on one of its ports, and so on. A hub at
// MaxTopoLevel is refused by the hub driver.
func (d *Device) Level() int { return d.level }

// Devnum returns the device's address on its bus (devnum).
func (d *Device) Devnum() int { return d.devnum }

// Descriptor returns the device descriptor.
func (d *Device) Descriptor() DeviceDescriptor { return d.gadget.Desc }

// Gadget returns what was plugged in.
func (d *Device) Gadget() *Gadget { return d.gadget }

// State returns the device's state.
func (d *Device) State() State {
	d.u.mu.Lock()
	defer d.u.mu.Unlock()
	return d.state
}

// IsHub reports whether the device has downstream ports.
func (d *Device) IsHub() bool { return d.gadget.HubPorts > 0 }

// Interfaces returns the interfaces of the active configuration (none once
// the device is deconfigured or disconnected).
func (d *Device) Interfaces() []*Interface {
	d.u.mu.Lock()
	defer d.u.mu.Unlock()
	return append([]*Interface(nil), d.intfs...)
}

// Interface returns the interface numbered n of the active configuration
// (usb_ifnum_to_if), or nil.
func (d *Device) Interface(n int) *Interface {
	for _, i := range d.Interfaces() {
		if int(i.desc.Number) == n {
			return i
		}
	}
	return nil
}

// Child returns the device on port (1-based) of a hub, or nil
// (usb_hub_find_child).
func (d *Device) Child(port int) *Device {
	d.u.mu.Lock()
	defer d.u.mu.Unlock()
	if port < 1 || port > len(d.children) {
		return nil
	}
	return d.children[port-1]
}

// Kick offers the device model every queued URB again: the device "has
// something to say" (data arrived, an interrupt fired).
func (d *Device) Kick() { d.u.process(d) }

// setState is usb_set_device_state; NOTATTACHED is applied recursively to
// everything below a hub (recursively_mark_NOTATTACHED).
func (u *USB) setState(d *Device, s State) {
	u.mu.Lock()
	var changed []*Device
	var olds []State
	var mark func(*Device)
	mark = func(x *Device) {
		if x.state != s {
			changed, olds = append(changed, x), append(olds, x.state)
			x.state = s
		}
		if s == StateNotAttached {
			for _, c := range x.children {
				if c != nil {
					mark(c)
				}
			}
		}
	}
	mark(d)
	u.mu.Unlock()
	for i, x := range changed {
		u.emit(KindDevice, x.Path(), "usb_set_device_state", olds[i].String()+" -> "+s.String())
	}
}

// allocDev is usb_alloc_dev: a usb_device named after its position, with
// ep0, in the default state; then usb_set_address gives it its devnum.
func (u *USB) allocDev(h *HCD, parent *Device, port int, g *Gadget) *Device {
	var name string
	var opts []device.Option
	switch {
	case parent == nil:
		name = fmt.Sprintf("usb%d", h.busnum)
	case parent.parent == nil:
		name = fmt.Sprintf("%d-%d", h.busnum, port)
		opts = append(opts, device.WithParent(parent.dev))
	default:
		name = fmt.Sprintf("%s.%d", parent.Name(), port)
		opts = append(opts, device.WithParent(parent.dev))
	}
	d := &Device{u: u, hcd: h, parent: parent, port: port, gadget: g, state: StateDefault}
	if parent != nil {
		d.level = parent.level + 1
	}
	u.allocStruct(d, name)
	opts = append(opts, device.WithBus(u.bus), device.WithRelease(func(dev *device.Device) {
		u.emit(KindDevice, dev.Path(), "usb_release_dev", "")
		u.mu.Lock()
		delete(u.devs, dev)
		u.mu.Unlock()
		d.freeStruct()
	}))
	d.dev = device.New(name, opts...)
	if g.HubPorts > 0 {
		d.children = make([]*Device, g.HubPorts)
		d.change = make([]bool, g.HubPorts)
		d.busy = make([]bool, g.HubPorts)
	}
	d.eps = []*endpoint{{udev: d, desc: EndpointDescriptor{Address: 0, Type: Control, MaxPacket: 64}, enabled: true}}
	u.mu.Lock()
	h.nextDevnum++
	d.devnum = h.nextDevnum
	u.devs[d.dev] = d
	u.mu.Unlock()
	u.emit(KindDevice, d.Path(), "usb_alloc_dev", fmt.Sprintf("port %d", port))
	u.setState(d, StateAddress) // usb_set_address
	return d
}

// newDevice is usb_new_device: announce the device and device_add it; the
// generic driver's probe configures it and its interfaces bind.
func (u *USB) newDevice(d *Device) error {
	g := d.gadget.Desc
	u.emit(KindDevice, d.Path(), "usb_new_device",
		fmt.Sprintf("New USB device found, idVendor=%04x, idProduct=%04x, device number %d", g.VendorID, g.ProductID, d.devnum))
	err := u.core.InitializeDevice(d.dev)
	if err == nil {
		// runtime PM: active, held for the enumeration, autosuspend after
		// usbcore.autosuspend, but forbidden until user space allows it
		// (usb_disable_autosuspend); system sleep may be asynchronous
		_ = pm.SetAutosuspendDelay(d.dev, DefaultAutosuspendDelay)
		_ = pm.SetActive(d.dev)
		_ = pm.GetNoresume(d.dev)
		_ = pm.UseAutosuspend(d.dev)
		_ = pm.Enable(d.dev)
		_ = pm.Forbid(d.dev)
		_ = pm.EnableAsyncSuspend(d.dev)
		err = u.core.AddDevice(d.dev)
	}
	if err != nil {
		u.emit(KindDevice, d.Path(), "usb_new_device", "can't device_add: "+Errno(err))
		u.mu.Lock()
		delete(u.devs, d.dev)
		u.mu.Unlock()
		_ = d.dev.Put()
		return fmt.Errorf("usb_new_device %s: %w", d.Name(), err)
	}
	_ = pm.MarkLastBusy(d.dev)
	_ = pm.PutSyncAutosuspend(d.dev)
	return nil
}

// genericProbe is usb_generic_driver_probe: usb_choose_configuration picks
// the gadget's configuration and usb_set_configuration installs it.
func (u *USB) genericProbe(d *Device) error {
	u.emit(KindDriver, d.Path(), "usb_probe_device", "driver=usb")
	return u.setConfiguration(d)
}

// genericDisconnect is usb_unbind_device with usb_generic_driver_disconnect:
// a configured device is deconfigured (usb_set_configuration(udev, -1)):
// usb_disable_device(udev, 1) deletes its interfaces, puts it back in the
// addressed state and disables every endpoint but ep0.
func (u *USB) genericDisconnect(d *Device) {
	u.emit(KindDriver, d.Path(), "usb_unbind_device", "driver=usb")
	if d.State() == StateConfigured || len(d.Interfaces()) > 0 {
		u.emit(KindDevice, d.Path(), "usb_set_configuration", "config -1 (deconfigure)")
		u.disableDevice(d, true)
	}
}

// setConfiguration is usb_set_configuration: create the interfaces and
// their endpoints, enable them, mark the device configured, then
// device_add each interface so that interface drivers bind.
func (u *USB) setConfiguration(d *Device) error {
	cfg := d.gadget.Config
	val := cfg.Value
	if val == 0 {
		val = 1
	}
	u.emit(KindDevice, d.Path(), "usb_set_configuration", fmt.Sprintf("config #%d, %d interface(s)", val, len(cfg.Interfaces)))
	var intfs []*Interface
	var eps []*endpoint
	for _, desc := range cfg.Interfaces {
		intf := &Interface{u: u, udev: d, desc: desc, minor: -1}
		name := fmt.Sprintf("%s:%d.%d", d.Name(), val, desc.Number)
		intf.dev = device.New(name, device.WithParent(d.dev), device.WithBus(u.bus), device.WithRelease(func(dev *device.Device) {
			u.emit(KindDevice, dev.Path(), "usb_release_interface", "")
			u.mu.Lock()
			delete(u.intfs, dev)
			u.mu.Unlock()
		}))
		for _, ed := range desc.Endpoints {
			ep := &endpoint{udev: d, intf: intf, desc: ed, enabled: true}
			intf.eps = append(intf.eps, ep)
			eps = append(eps, ep)
		}
		intfs = append(intfs, intf)
	}
	u.mu.Lock()
	d.intfs = intfs
	d.eps = append(d.eps[:1], eps...)
	for _, i := range intfs {
		u.intfs[i.dev] = i
	}
	u.mu.Unlock()
	u.setState(d, StateConfigured)
	for _, i := range intfs {
		u.emit(KindDevice, i.Path(), "usb_set_configuration", "adding interface")
		err := u.core.InitializeDevice(i.dev)
		if err == nil {
			_ = pm.NoCallbacks(i.dev) // interfaces suspend with their device
			err = u.core.AddDevice(i.dev)
		}
		if err != nil {
			u.emit(KindDevice, i.Path(), "usb_set_configuration", "device_add failed: "+Errno(err))
		}
	}
	return nil
}

// removeInterfaces is the interface half of usb_disable_device: device_del
// every registered interface (which unbinds its driver through
// usb_unbind_interface), then drop the configuration's references.
func (u *USB) removeInterfaces(d *Device) {
	intfs := d.Interfaces()
	for _, i := range intfs {
		if !i.dev.IsRegistered() {
			continue
		}
		u.emit(KindDevice, d.Path(), "usb_disable_device", "unregistering interface "+i.Name())
		if err := u.core.DeleteDevice(i.dev); err != nil {
			u.emit(KindDevice, i.Path(), "usb_disable_device", "device_del: "+Errno(err))
		}
	}
	u.mu.Lock()
	d.intfs = nil
	u.mu.Unlock()
	for _, i := range intfs {
		_ = i.dev.Put()
	}
}

// disableDevice is usb_disable_device(udev, skip_ep0): the interfaces are
// removed, the configuration dropped (a configured device goes back to the
// addressed state), and every endpoint, ep0 included unless skipEP0, is
// disabled and forgotten (usb_disable_endpoint with reset_hardware),
// terminating its URBs with -ESHUTDOWN ("nuking all URBs"). ep0 is never
// forgotten, only disabled.
func (u *USB) disableDevice(d *Device, skipEP0 bool) {
	u.emit(KindDevice, d.Path(), "usb_disable_device", "")
	u.removeInterfaces(d)
	if d.State() == StateConfigured {
		u.setState(d, StateAddress)
	}
	u.mu.Lock()
	eps := append([]*endpoint(nil), d.eps...)
	if skipEP0 {
		eps = eps[1:]
	}
	d.eps = d.eps[:1]
	u.mu.Unlock()
	which := "all"
	if skipEP0 {
		which = "non-ep0"
	}
	u.emit(KindDevice, d.Path(), "usb_disable_device", "nuking "+which+" URBs")
	for _, ep := range sortEndpoints(eps) {
		u.disableEndpoint(ep)
	}
}

// URBsInFlight returns how many URBs addressed to the device are in
// flight: queued on its endpoints (ep->urb_list), finished by the hardware
// and waiting for their giveback, or with their completion running. Once a
// driver's disconnect has returned, none of its URBs may be left.
func (d *Device) URBsInFlight() int {
	u := d.u
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, ep := range d.eps {
		n += len(ep.queue) + ep.completing
	}
	for _, urb := range d.hcd.done {
		if urb.Dev == d {
			n++
		}
	}
	return n
}

package usbsim

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/driver"
)

// Driver is struct usb_driver: an interface driver with an id table, a
// probe and a disconnect, and optional suspend and resume. Fill in the
// fields and register it with USB.Register.
type Driver struct {
	// Name is the driver's name (/sys/bus/usb/drivers/<Name>).
	Name string
	// IDTable is the id table usb_match_id walks.
	IDTable []DeviceID
	// Probe binds the driver to intf; id is the table entry that matched.
	// It runs with the interface's device lock held.
	Probe func(intf *Interface, id DeviceID) error
	// Disconnect unbinds the driver. The interface's URBs are already
	// terminated, unless SoftUnbind is set and the device is present.
	Disconnect func(intf *Interface)
	// Suspend and Resume are called by Device.Suspend and Device.Resume.
	Suspend func(intf *Interface) error
	Resume  func(intf *Interface) error
	// SoftUnbind is soft_unbind: on an unbind with the device still
	// present, the driver's disconnect runs before its URBs are
	// terminated (it cancels them itself).
	SoftUnbind bool
	// NoDynamicID is no_dynamic_id: NewID is refused.
	NoDynamicID bool

	u   *USB
	drv *driver.Driver

	mu     sync.Mutex
	dynids []DeviceID
}

// Core returns the driver-model driver (&usb_drv->driver), nil before
// registration.
func (d *Driver) Core() *driver.Driver { return d.drv }

// Register is usb_register_driver: the driver joins the usb bus and binds
// every matching unbound interface.
func (u *USB) Register(d *Driver) error {
	if d == nil || d.Name == "" {
		return fmt.Errorf("usb_register_driver: driver without a name: %w", ErrInvalid)
	}
	if d.u != nil {
		return fmt.Errorf("usb_register_driver %s: already registered: %w", d.Name, ErrBusy)
	}
	u.enter()
	defer u.exit("usb_register_driver " + d.Name)
	drv := &driver.Driver{Name: d.Name, Bus: BusName}
	d.u, d.drv = u, drv
	u.mu.Lock()
	u.drivers[drv] = d
	u.mu.Unlock()
	if err := u.core.RegisterDriver(drv); err != nil {
		u.mu.Lock()
		delete(u.drivers, drv)
		u.mu.Unlock()
		d.u, d.drv = nil, nil
		return fmt.Errorf("usb_register_driver %s: %w", d.Name, err)
	}
	u.emit(KindDriver, drv.Path(), "usb_register_driver", "registered new interface driver "+d.Name)
	return nil
}

// Deregister is usb_deregister: every bound interface is unbound
// (usb_unbind_interface), the driver leaves the bus and its dynamic ids
// are freed.
func (u *USB) Deregister(d *Driver) error {
	if d == nil || d.u != u || d.drv == nil {
		return fmt.Errorf("usb_deregister: driver not registered: %w", ErrInvalid)
	}
	u.enter()
	defer u.exit("usb_deregister " + d.Name)
	u.emit(KindDriver, d.drv.Path(), "usb_deregister", "deregistering interface driver "+d.Name)
	if err := u.core.UnregisterDriver(d.drv); err != nil {
		return fmt.Errorf("usb_deregister %s: %w", d.Name, err)
	}
	u.mu.Lock()
	delete(u.drivers, d.drv)
	u.mu.Unlock()
	d.mu.Lock()
	d.dynids = nil // usb_free_dynids
	d.mu.Unlock()
	d.u, d.drv = nil, nil
	return nil
}

// NewID is a write to /sys/bus/usb/drivers/<name>/new_id
// (usb_store_new_id): "vendor product [interface-class]"; an interface
// class of 0 is ignored, as the kernel's sscanf'd 0 is. The dynamic id is
// added and this driver, and no other, is offered every interface without
// a driver (driver_attach(driver)).
func (d *Driver) NewID(vendor, product uint16, class ...uint8) error {
	u := d.u
	if u == nil {
		return fmt.Errorf("new_id: driver not registered: %w", ErrInvalid)
	}
	if d.NoDynamicID {
		return fmt.Errorf("new_id %s: no_dynamic_id: %w", d.Name, ErrInvalid)
	}
	u.enter()
	defer u.exit("usb_store_new_id " + d.Name)
	id := ID(vendor, product)
	msg := fmt.Sprintf("%04x %04x", vendor, product)
	if len(class) > 0 && class[0] != 0 {
		id.Flags |= MatchIntClass
		id.IntClass = class[0]
		msg += fmt.Sprintf(" %02x", class[0])
	}
	d.mu.Lock()
	d.dynids = append(d.dynids, id)
	d.mu.Unlock()
	u.emit(KindDriver, d.drv.Path(), "usb_store_new_id", msg)
	return u.core.AttachDriver(d.drv)
}

// RemoveID is a write to remove_id (remove_id_store): the first dynamic id
// for vendor:product, in the order they were added, is dropped. Bound
// interfaces stay bound.
func (d *Driver) RemoveID(vendor, product uint16) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, id := range d.dynids {
		if id.VendorID == vendor && id.ProductID == product {
			d.dynids = append(d.dynids[:i:i], d.dynids[i+1:]...)
			return
		}
	}
}

// matchID is usb_device_match's order: usb_match_id over the static
// table, then usb_match_dynamic_id.
func (d *Driver) matchID(intf *Interface) (DeviceID, bool) {
	if id, ok := MatchID(d.IDTable, intf.udev.gadget.Desc, intf.desc); ok {
		return id, true
	}
	return d.matchDynamic(intf)
}

// probeID is usb_probe_interface's order: the dynamic ids first, then the
// static table; the id found is the one handed to probe.
func (d *Driver) probeID(intf *Interface) (DeviceID, bool) {
	if id, ok := d.matchDynamic(intf); ok {
		return id, true
	}
	return MatchID(d.IDTable, intf.udev.gadget.Desc, intf.desc)
}

// matchDynamic is usb_match_dynamic_id: the dynamic ids in the order they
// were added.
func (d *Driver) matchDynamic(intf *Interface) (DeviceID, bool) {
	dd := intf.udev.gadget.Desc
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range d.dynids {
		if id.MatchOne(dd, intf.desc) {
			return id, true
		}
	}
	return DeviceID{}, false
}

// probeInterface is usb_probe_interface: find the id (dynamic ids first),
// mark the interface
// BINDING, call the driver's probe; on failure clear the interface data and
// mark it UNBOUND.
func (u *USB) probeInterface(intf *Interface, d *Driver) error {
	id, ok := d.probeID(intf)
	if !ok {
		return fmt.Errorf("usb_probe_interface %s: no id matches: %w", intf.Name(), ErrNoDevice)
	}
	u.emit(KindDriver, intf.Path(), "usb_probe_interface", "driver="+d.Name+", matched id "+id.String())
	intf.setCond(Binding)
	u.mu.Lock()
	intf.driver = d
	u.mu.Unlock()
	var err error
	if d.Probe != nil {
		err = d.Probe(intf, id)
	}
	if err != nil {
		intf.SetIntfdata(nil)
		u.mu.Lock()
		intf.driver, intf.cond = nil, Unbound
		u.mu.Unlock()
		u.emit(KindDriver, intf.Path(), "usb_probe_interface", "driver="+d.Name+" failed: "+Errno(err))
		return err
	}
	intf.setCond(Bound)
	return nil
}

// unbindInterface is usb_unbind_interface: mark the interface UNBINDING,
// terminate its URBs (usb_disable_interface) unless the driver has
// soft_unbind and the device is still attached, call the driver's
// disconnect, re-enable the endpoints (usb_enable_interface), clear the
// interface data, mark it UNBOUND.
func (u *USB) unbindInterface(intf *Interface, d *Driver) {
	intf.setCond(Unbinding)
	gone := intf.udev.State() == StateNotAttached
	u.emit(KindDriver, intf.Path(), "usb_unbind_interface", fmt.Sprintf("driver=%s soft_unbind=%t device_gone=%t", d.Name, d.SoftUnbind, gone))
	if !d.SoftUnbind || gone {
		u.disableInterface(intf)
	}
	if d.Disconnect != nil {
		u.emit(KindDriver, intf.Path(), "usb_unbind_interface", "driver->disconnect")
		d.Disconnect(intf)
	}
	u.enableInterface(intf)
	intf.SetIntfdata(nil)
	u.mu.Lock()
	intf.cond, intf.driver = Unbound, nil
	u.mu.Unlock()
	u.emit(KindDriver, intf.Path(), "usb_unbind_interface", "unbound")
}

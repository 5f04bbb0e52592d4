package usbsim

import "github.com/drvsim/drvsim/device"

// Interface is struct usb_interface: one interface of a device's active
// configuration, a driver-model device of its own, bound to a usb_driver.
type Interface struct {
	u    *USB
	udev *Device
	dev  *device.Device
	desc InterfaceDescriptor

	// guarded by u.mu
	cond   Condition
	minor  int
	usbDev *device.Device // the usbmisc class device (intf->usb_dev)
	eps    []*endpoint
	driver *Driver

	needsBinding      bool // needs_binding: unbound for a reset or a sleep, to be bound again
	needsRemoteWakeup bool // needs_remote_wakeup
	pmUsage           int  // pm_usage_cnt: usb_autopm_get_interface holds
}

// Name returns the interface's name, e.g. "1-1:1.0".
func (i *Interface) Name() string { return i.dev.Name() }

// Dev returns the driver-model device (&intf->dev).
func (i *Interface) Dev() *device.Device { return i.dev }

// Path returns the interface's sysfs path.
func (i *Interface) Path() string { return i.dev.Path() }

// Device returns the usb_device the interface belongs to
// (interface_to_usbdev).
func (i *Interface) Device() *Device { return i.udev }

// USB returns the USB core.
func (i *Interface) USB() *USB { return i.u }

// Descriptor returns the interface descriptor (cur_altsetting->desc).
func (i *Interface) Descriptor() InterfaceDescriptor { return i.desc }

// Endpoints returns the interface's endpoint descriptors
// (cur_altsetting->endpoint).
func (i *Interface) Endpoints() []EndpointDescriptor {
	return append([]EndpointDescriptor(nil), i.desc.Endpoints...)
}

// FindBulkInOut is usb_find_common_endpoints for the first bulk IN and the
// first bulk OUT endpoint; ok is false unless both exist.
func (i *Interface) FindBulkInOut() (in, out EndpointDescriptor, ok bool) {
	var hasIn, hasOut bool
	for _, e := range i.desc.Endpoints {
		if !hasIn && e.IsBulkIn() {
			in, hasIn = e, true
		}
		if !hasOut && e.IsBulkOut() {
			out, hasOut = e, true
		}
	}
	return in, out, hasIn && hasOut
}

// SetIntfdata stores the driver's data on the interface (usb_set_intfdata,
// that is dev_set_drvdata). The driver core clears it at unbind.
func (i *Interface) SetIntfdata(v any) { i.dev.SetDrvdata(v) }

// Intfdata returns the driver's data (usb_get_intfdata).
func (i *Interface) Intfdata() any { return i.dev.Drvdata() }

// Condition returns the interface's binding state (intf->condition).
func (i *Interface) Condition() Condition {
	i.u.mu.Lock()
	defer i.u.mu.Unlock()
	return i.cond
}

// Driver returns the bound usb_driver, or nil.
func (i *Interface) Driver() *Driver {
	i.u.mu.Lock()
	defer i.u.mu.Unlock()
	return i.driver
}

// Minor returns the minor number a driver registered for the interface
// (intf->minor), -1 for none.
func (i *Interface) Minor() int {
	i.u.mu.Lock()
	defer i.u.mu.Unlock()
	return i.minor
}

// setMinor records the interface's minor number, as usb_register_dev and
// usb_deregister_dev do (-1 for none).
func (i *Interface) setMinor(m int) {
	i.u.mu.Lock()
	i.minor = m
	i.u.mu.Unlock()
}

// ClassDev returns the class device usb_register_dev created for the
// interface (intf->usb_dev), or nil.
func (i *Interface) ClassDev() *device.Device {
	i.u.mu.Lock()
	defer i.u.mu.Unlock()
	return i.usbDev
}

func (i *Interface) setCond(c Condition) {
	i.u.mu.Lock()
	i.cond = c
	i.u.mu.Unlock()
}

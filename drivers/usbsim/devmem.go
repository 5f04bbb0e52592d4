package usbsim

import "github.com/drvsim/drvsim/env"

// SetCheckedDevices makes the struct usb_device of every device the core
// enumerates from now on a checked allocation of the machine's memory
// (env.Memory), as KASAN sees usb_alloc_dev's kzalloc: it is allocated
// with the device and freed by usb_release_dev when the last reference
// to the device is dropped. A driver that keeps a pointer to its
// usb_device without a reference of its own (usb_get_dev, here
// Device.Dev().Get()) and uses it after the device was disconnected is
// then reported by Device.Access as a use-after-free. With on false,
// devices enumerated from now on are not checked.
//
// It is off by default, and devices enumerated before the call (the root
// hubs of controllers already added) stay unchecked: a device still
// plugged in when a simulated run ends would be a leak to the run's
// memory check, and every machine's trace would carry the allocations.
// Machines whose checked devices are all unplugged by the end of a run
// (the bug zoo's) turn it on after adding their controllers.
func (u *USB) SetCheckedDevices(on bool) {
	u.mu.Lock()
	u.checkedDevs = on
	u.mu.Unlock()
}

// allocStruct gives a device being allocated its checked struct
// usb_device, when SetCheckedDevices is on.
func (u *USB) allocStruct(d *Device, name string) {
	u.mu.Lock()
	on := u.checkedDevs
	u.mu.Unlock()
	if on {
		d.obj = u.Memory().Alloc("struct usb_device " + name)
	}
}

// freeStruct is usb_release_dev's kfree(udev).
func (d *Device) freeStruct() {
	if d.obj != nil {
		d.obj.Free()
	}
}

// Access checks a driver's access through its usb_device pointer (what
// says which, e.g. "adu_release: dev_dbg(&dev->udev->dev)"): on a device
// whose struct usb_release_dev has freed, it reports a KASAN
// use-after-free, naming who allocated and who freed it. On a device
// enumerated while SetCheckedDevices was off it checks nothing.
func (d *Device) Access(what string) {
	if d.obj != nil {
		d.obj.Access(what)
	}
}

// Object returns the device's checked allocation, or nil for a device
// enumerated while SetCheckedDevices was off.
func (d *Device) Object() *env.Object { return d.obj }

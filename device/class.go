package device

import "strings"

// Class is what a device knows of its class (dev->class, a struct class of
// drivers/base/class.c); *chardev.Class implements it. A device with a class
// lives in sysfs under its parent's "<class name>" directory (the glue
// directory get_device_parent makes), or under /sys/devices/virtual/<class
// name> when it has no parent.
type Class interface {
	// ClassName is the class's name, e.g. "usbmisc" or "drm".
	ClassName() string
	// DevNode is class->devnode: the name of dev's node under /dev, e.g.
	// "dri/card0"; "" for the default, the device's name.
	DevNode(dev *Device) string
}

// WithClass sets the device's class (dev->class).
func WithClass(c Class) Option { return func(d *Device) { d.class = c } }

// WithDevt sets the device's number (dev->devt): the driver core creates
// a /dev node for it at device_add and removes it at device_del.
func WithDevt(n DevT) Option { return func(d *Device) { d.devt = n } }

// Class returns the device's class or nil (dev->class).
func (d *Device) Class() Class { return d.class }

// ClassName returns the name of the device's class, or "" when it has
// none.
func (d *Device) ClassName() string {
	if d.class == nil {
		return ""
	}
	return d.class.ClassName()
}

// Devt returns the device's number (dev->devt), 0 for none.
func (d *Device) Devt() DevT { return d.devt }

// DevNode returns the name of the device's node under /dev
// (device_get_devnode): the class's choice, else the device's name with
// each '!' turned into '/' (a kobject name cannot hold a '/'); "" for a
// device without a number.
func (d *Device) DevNode() string {
	if d.devt == 0 {
		return ""
	}
	if d.class != nil {
		if n := d.class.DevNode(d); n != "" {
			return n
		}
	}
	return strings.ReplaceAll(d.name, "!", "/")
}

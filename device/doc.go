// Package device models struct device of the Linux driver model
// (include/linux/device.h, drivers/base/core.c): identity, parent, the
// reference count and release callback (get_device, put_device), driver
// data, attributes, the devres list, the device lock and device links.
//
// A Device is created with New and then handed to the driver core (package
// bus, wrapped by the root package drvsim), which initializes it
// (device_initialize), adds it (device_add), binds and unbinds drivers and
// deletes it (device_del). The core reaches the parts of a Device that only
// it may change through Device.Core; drivers and tests use the ordinary
// methods.
//
// Layering: device imports devres, sched and trace only. It knows its bus
// and its driver through the small interfaces Bus and Driver, so that the
// higher packages driver and bus can implement them.
package device

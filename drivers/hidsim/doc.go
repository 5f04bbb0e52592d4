// Package hidsim models the Linux HID core (drivers/hid/hid-core.c,
// hid-input.c) and its USB transport (drivers/hid/usbhid/hid-core.c) at
// the size a HID driver's lifecycle needs: usbhid binds a USB interface of
// class HID and adds a hid_device on the "hid" bus, where a hid_driver
// binds it by id table; the driver's probe parses (hid_parse) and starts
// the hardware (hid_hw_start: the interrupt-in URB is submitted and an
// input device registered, its input_configured callback called); every
// report the URB brings goes to hid_input_report and the driver's
// raw_event; hid_hw_stop unregisters the input device (which frees it
// unless user space holds it open) and then kills the URB.
//
// The core's driver_input_lock is modelled: hid_input_report takes it
// with down_trylock and drops a report while a probe or remove holds it.
// Report descriptors, hidraw, hiddev and the mapping of reports to input
// events are not: a driver without raw_event sees nothing.
//
// Limitation: the kernel removes the hid_device from usbhid's disconnect,
// inside the interface's device_del; drvsim's device_del refuses a device
// that still has children on a bus (the subsystem removes them first), so
// a USB unplug of a device with a hid_device fails. Unbind the HID driver
// or the interface's driver (usbhid) instead, which removes it.
package hidsim

// Package usbsim models the Linux USB core (drivers/usb/core) on top of the
// drvsim driver core: host controllers with root hubs, hubs with numbered
// ports, devices plugged and unplugged at any time, the two kinds of
// driver-model device (the usb_device bound to the generic "usb" driver,
// one usb_interface per interface bound to a usb_driver by id table), URBs
// that complete through a completion handler with a status, and the
// disconnect order of hub.c's usb_disconnect.
//
// # The pieces
//
// Init registers the "usb" bus on a bus.Core (usb_init): the bus's match,
// probe and remove wrap the usb_driver's (usb_device_match,
// usb_probe_interface, usb_unbind_interface), and the hub driver and the
// generic device driver are registered. USB.AddHCD adds a host controller
// and registers its root hub "usbN" (usb_add_hcd). Device.Plug plugs a
// Gadget (descriptors plus a device model, a Function, that answers
// transfers) into a hub port; if the hub driver watches the port, the
// device is enumerated at once (hub_port_connect, usb_new_device): the
// generic driver configures it (usb_set_configuration) and its interfaces
// bind. Device.Unplug pulls it out (usb_disconnect of its usb_device, if
// it has one). A gadget stays plugged in until Unplug, whatever happens to
// its usb_device: a hub driver unbind disconnects the usb_devices on the
// hub's ports, and binding the hub driver again enumerates the devices
// still plugged in (hub_activate and the hub_wq's hub_event, run when the
// outermost USB core call returns; see hubwq.go).
//
// # URBs and "asynchronous" completion
//
// URB.Submit (usb_submit_urb) queues an URB on an endpoint; the device
// model answers it when it can (a loopback IN waits for data). A finished
// transfer goes on the host controller's done list and its completion
// handler runs later, from usb_hcd_giveback_urb, called by whoever drives
// the controller: HCD.Flush (the controller's bottom half), or a task
// waiting for an URB (BulkMsg, URB.Kill), which delivers completed URBs
// while it waits. No goroutine is involved, so plain tests are
// deterministic, and under a deterministic scheduler (package sim) the
// submit, the giveback and the waits are schedule points.
//
// Terminated URBs complete with the kernel's statuses: -ESHUTDOWN
// (ErrShutdown) when their endpoint is disabled at unbind or disconnect,
// -ENOENT (ErrNoEntry) when killed, -ECONNRESET (ErrConnReset) when
// unlinked. Submitting to a device that is gone fails with -ENODEV
// (ErrNoDevice), to a disabled endpoint with -ENOENT, to a dead controller
// with -ESHUTDOWN, an URB being killed with -EPERM.
//
// # Character devices
//
// Init also registers the USB character major 180 (usb_major_init), whose
// opens usb_open hands to the file operations registered for the minor.
// An interface driver with no class of its own calls USB.RegisterDev
// (usb_register_dev) at the end of its probe: a free minor from its
// ClassDriver's base gets the driver's file operations and a device of the
// usbmisc class below the interface, so /dev/<name> appears; its
// disconnect calls USB.DeregisterDev (usb_deregister_dev), and its open
// finds its interface with USB.FindInterface (usb_find_interface). The
// files are package chardev's: they outlive the device, and what they do
// once it is gone is the driver's business (see package skel).
//
// # Disconnect
//
// usb_disconnect marks the device and everything below it NOTATTACHED (new
// submissions fail), disconnects the children first, port by port, then
// usb_disable_device deletes each interface (device_del, whose unbind runs
// usb_unbind_interface: the interface's URBs are terminated before the
// driver's disconnect unless the driver has SoftUnbind and the device is
// still present), disables every endpoint, and finally the usb_device is
// deleted and the hub's reference dropped. Unbinding the hub driver from a
// hub's interface (or deconfiguring the hub) disconnects the devices on its
// ports the same way, in its disconnect (hub_quiesce). Every step is a
// trace event of one of the kinds in kinds.go, named after the kernel
// function.
//
// Layering: usbsim imports bus, chardev, device, driver, env, kernel, sched
// and trace; nothing below imports it.
package usbsim

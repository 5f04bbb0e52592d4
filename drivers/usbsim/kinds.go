package usbsim

import "github.com/drvsim/drvsim/trace"

// Trace event kinds of the USB core. Every step of a device's life is
// recorded with one of them and the name of the kernel function it models.
const (
	// KindHub: hub_port_connect, hub_port_connect_change, usb_disconnect,
	// hub_disconnect_children, hub_probe, hub_activate, hub_event,
	// hub_disconnect, hub_quiesce (drivers/usb/core/hub.c).
	KindHub trace.Kind = "usb.hub"
	// KindDevice: usb_alloc_dev, usb_new_device, usb_set_device_state,
	// usb_set_configuration, usb_disable_device, usb_disable_endpoint
	// (usb.c, message.c).
	KindDevice trace.Kind = "usb.device"
	// KindDriver: usb_register_driver, usb_deregister, usb_probe_device,
	// usb_probe_interface, usb_unbind_interface, usb_store_new_id
	// (driver.c, generic.c).
	KindDriver trace.Kind = "usb.driver"
	// KindURB: usb_submit_urb, usb_hcd_giveback_urb, usb_kill_urb,
	// usb_unlink_urb, usb_hcd_flush_endpoint, anchors (urb.c, hcd.c).
	KindURB trace.Kind = "usb.urb"
	// KindFile: usb_register_dev, usb_deregister_dev (file.c).
	KindFile trace.Kind = "usb.file"
	// KindPort: what happens at a port that no kernel code sees, because
	// no hub driver watches it: a device plugged into or pulled out of a
	// hub whose hub driver is unbound. Its Func is "hardware", not a
	// kernel function.
	KindPort trace.Kind = "usb.port"
)

// Kinds lists every kind the USB core records, for trace.OfKind.
var Kinds = []trace.Kind{KindHub, KindDevice, KindDriver, KindURB, KindFile, KindPort}

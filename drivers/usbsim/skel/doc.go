// Package skel is drivers/usb/usb-skeleton.c three times over: the same
// character driver for a device with a bulk IN and a bulk OUT endpoint,
// written in three ways, for teaching and for the lifecycle tests.
//
//   - Classic is the kernel's pattern (mainline usb-skeleton.c): the driver
//     state is reference counted (a kref) and holds references on the
//     usb_device and the interface, an io mutex serialises I/O against
//     disconnect, disconnect sets a disconnected flag under that mutex,
//     every file operation takes it and returns -ENODEV once the flag is
//     set, and the last release frees the state and drops the references.
//   - Revocable is the same driver on package revocable: probe creates a
//     provider of the hardware state whose revoke is a devm action, every
//     open takes a consumer handle, every file operation runs inside
//     Consumer.OrReturn and returns -ENODEV once the provider is revoked,
//     release closes the handle. Disconnect gives the minor back, runs the
//     revoke now (devm_release_action: it waits for the file operations
//     inside their sections), then kills the anchored URBs; the devres
//     release that follows frees the hardware state. The revoke cannot be
//     left to devres: on an unbind with the device plugged in (rmmod) the
//     USB core enables the endpoints again between disconnect and
//     devres_release_all.
//   - Broken is the race the io mutex exists for: it checks the
//     disconnected flag under the mutex but does its I/O after dropping it
//     (under a read mutex disconnect never takes), with a bulk-in buffer
//     freed (by devres) when the device is unbound. A read racing an
//     unplug touches the freed buffer; under sim the sanitizer reports the
//     use-after-free.
//
// The driver state and the buffers are simulated allocations of the USB
// machine's memory arena (env.Memory), so every touch of freed memory is
// reported.
package skel

import (
	"errors"
	"fmt"
	"time"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/trace"
)

// The skeleton's ids and minor range (USB_SKEL_VENDOR_ID, ..._PRODUCT_ID,
// USB_SKEL_MINOR_BASE): its first device is /dev/skel0, USB_MAJOR:192.
const (
	VendorID  = 0xfff0
	ProductID = 0xfff0
	MinorBase = 192
	// NodeName is the usb_class_driver's name pattern.
	NodeName = "skel%d"
)

// ReadTimeout is the timeout of a read's bulk transfer, 10000 ms as in the
// skeleton's usb_bulk_msg call before it moved to asynchronous reads: a
// read the device never answers returns -ETIMEDOUT, so no read waits for
// ever with the io mutex (or a read section) held.
const ReadTimeout = 10 * time.Second

// IoctlBulkInSize is the one ioctl the skeletons implement: it returns the
// size of the bulk-in buffer (bulk_in_size), a read of the driver state.
// Any other command is -ENOTTY.
const IoctlBulkInSize = 0x5301

// Kind is the trace kind of the skeleton drivers' own steps (skel_probe,
// skel_disconnect, skel_delete, ...).
const Kind trace.Kind = "skel"

// Variant names one of the three drivers.
type Variant string

// The variants.
const (
	Classic   Variant = "skel-classic"
	Revocable Variant = "skel-revocable"
	Broken    Variant = "skel-broken"
)

// Variants lists the three variants, correct ones first.
var Variants = []Variant{Classic, Revocable, Broken}

// New returns the usb_driver of variant v on u; its probe registers a
// minor of the USB major (usb_register_dev with ClassDriver's pattern).
// Register it with u.Register.
func New(v Variant, u *usbsim.USB) (*usbsim.Driver, error) {
	switch v {
	case Classic:
		return NewClassic(u), nil
	case Revocable:
		return NewRevocable(u), nil
	case Broken:
		return NewBroken(u), nil
	}
	return nil, fmt.Errorf("skel: unknown variant %q: %w", v, device.ErrInvalid)
}

// classDriver is skel_class: the skeleton's usb_class_driver, with the
// variant's file operations. Like the kernel's, it has no devnode: the
// node is /dev/skel<N>.
func classDriver(fops *chardev.FileOperations) *usbsim.ClassDriver {
	return &usbsim.ClassDriver{Name: NodeName, Fops: fops, MinorBase: MinorBase}
}

// IDTable is skel_table: USB_DEVICE(VendorID, ProductID).
func IDTable() []usbsim.DeviceID { return []usbsim.DeviceID{usbsim.ID(VendorID, ProductID)} }

// Gadget returns a device the skeletons bind to, answered by fn (a
// usbsim.Loopback, a usbsim.Counter, ...).
func Gadget(fn usbsim.Function) *usbsim.Gadget {
	return usbsim.BulkGadget(VendorID, ProductID, 64, fn)
}

func emit(u *usbsim.USB, dev, fn, msg string) {
	u.Log().Emit(trace.Event{Kind: Kind, Dev: dev, Func: fn, Msg: msg})
}

// ioErr turns a transfer's error into what read and write return: -ENODEV
// (wrapping the URB status) when the device or endpoint went away under
// the transfer, -ETIMEDOUT as it is, -EIO for other failures. The
// kernel's skeleton returns -EIO for a gone device too; telling the user
// the device is gone is kinder.
func ioErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, usbsim.ErrTimedOut):
		return err
	case errors.Is(err, usbsim.ErrShutdown), errors.Is(err, usbsim.ErrNoDevice),
		errors.Is(err, usbsim.ErrNoEntry):
		return fmt.Errorf("%w (urb status %s)", usbsim.ErrNoDevice, usbsim.Errno(err))
	}
	return fmt.Errorf("%w (urb status %s)", usbsim.ErrIO, usbsim.Errno(err))
}

// writeCallback is skel_write_bulk_callback: unlink faults are not errors;
// the URB's buffer is freed here (usb_free_coherent), so the host
// controller must never touch it after the giveback.
func writeCallback(urb *usbsim.URB) {
	urb.Buffer.Free()
}

// submitWrite is the body of skel_write shared by the variants: allocate a
// buffer and an URB, copy the data, anchor and submit.
func submitWrite(u *usbsim.USB, udev *usbsim.Device, ep uint8, anchor *usbsim.Anchor, p []byte) (int, error) {
	buf := u.AllocBuffer("skel write buffer", len(p))
	copy(buf.Bytes("skel_write: copy_from_user"), p)
	urb := u.AllocURB()
	urb.FillBulk(udev, ep, buf, len(p), writeCallback, nil)
	anchor.Anchor(urb)
	if err := urb.Submit(); err != nil {
		urb.Unanchor()
		buf.Free()
		return 0, ioErr(err)
	}
	return len(p), nil
}

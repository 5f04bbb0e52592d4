package usbsim

import (
	"errors"

	"github.com/drvsim/drvsim/device"
)

// Errors of the USB core, named after the kernel errnos it returns or puts
// in urb->status. The ones the driver core already defines are the same
// values (errors.Is matches either name).
var (
	// ErrNoDevice is -ENODEV: usb_submit_urb of an URB without a device or
	// to a device that is gone (USB_STATE_NOTATTACHED), or a driver
	// operation after disconnect.
	ErrNoDevice = device.ErrNoDevice
	// ErrNoEntry is -ENOENT: the status of an URB killed by usb_kill_urb,
	// and usb_submit_urb to an endpoint that is disabled or does not exist
	// (usb_pipe_endpoint returned NULL).
	ErrNoEntry = device.ErrNoEntry
	// ErrBusy is -EBUSY: submitting an URB that is already in flight.
	ErrBusy = device.ErrBusy
	// ErrInvalid is -EINVAL: an URB without a completion handler,
	// a port number out of range, a malformed id.
	ErrInvalid = device.ErrInvalid
	// ErrNoMemory is -ENOMEM.
	ErrNoMemory = device.ErrNoMemory
	// ErrIO is -EIO.
	ErrIO = device.ErrIO

	// ErrShutdown is -ESHUTDOWN: the status of every URB still queued on an
	// endpoint when the endpoint is disabled (usb_hcd_flush_endpoint, at
	// unbind and disconnect), and usb_submit_urb once the host controller
	// is dead.
	ErrShutdown = device.ErrShutdown
	// ErrConnReset is -ECONNRESET: the status of an URB unlinked
	// asynchronously (usb_unlink_urb).
	ErrConnReset = device.ErrConnReset
	// ErrPerm is -EPERM: usb_submit_urb of an URB being killed or poisoned
	// (urb->reject).
	ErrPerm = device.ErrPerm
	// ErrProto is -EPROTO: a transfer error (bitstuff, no response) that a
	// device model may report as an URB's status.
	ErrProto = device.ErrProto
	// ErrPipe is -EPIPE: the endpoint stalled.
	ErrPipe = device.ErrPipe
	// ErrInProgress is -EINPROGRESS: the status of an URB while it is in
	// flight.
	ErrInProgress = device.ErrInProgress
	// ErrExFull is -EXFULL: usb_register_dev with no free minor.
	ErrExFull = device.ErrExFull
	// ErrAddrInUse is -EADDRINUSE: usb_register_dev for an interface that
	// has a minor already.
	ErrAddrInUse = device.ErrAddrInUse
	// ErrHostUnreach is -EHOSTUNREACH: usb_submit_urb to a suspended
	// device (udev->can_submit cleared by usb_suspend_both).
	ErrHostUnreach = device.ErrHostUnreach
	// ErrTimedOut is -ETIMEDOUT: usb_bulk_msg (usb_start_wait_urb) whose
	// URB did not complete within its timeout.
	ErrTimedOut = device.ErrTimedOut
	// ErrIdentifierRemoved is -EIDRM: usb_unlink_urb of an URB that is not
	// in flight (already completed or never submitted).
	ErrIdentifierRemoved = device.ErrIdentifierRemoved

	// ErrNotEnumerated is not an errno: Device.Plug returns it (together
	// with ErrNoDevice) when the gadget is now plugged in at a port no hub
	// driver watches, so that no usb_device exists for it yet.
	ErrNotEnumerated = errors.New("plugged in, not enumerated: no hub driver watches the port")
)

// Errno renders err as the kernel prints a status: "0", "-ESHUTDOWN", ...
func Errno(err error) string { return device.ErrnoName(err) }

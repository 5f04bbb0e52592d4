// Package chardev is a character-device layer small enough to teach: a
// Registry of minor numbers (the USB core's usb_minors table with its
// minor_rwsem, or a misc device's), file operations (struct
// file_operations: open, read, write, ioctl, release) and File handles that
// can outlive the device behind them.
//
// A driver registers a minor in probe (Registry.Register, modelling
// usb_register_dev) and gives it back in disconnect (Registry.Deregister,
// usb_deregister_dev). Open on a minor that is not registered fails with
// -ENODEV, so once a device is unplugged nobody new can open it, while
// files already open keep their operations and private data until their
// Release: what the driver does then with a gone device is its business,
// and the subject of package skel.
//
// Open runs the driver's open with the registry's lock held, as usb_open
// does under minor_rwsem, so an open cannot race the Deregister of its
// minor. The lock is a kernel.Mutex: under a deterministic scheduler every
// operation is a schedule point.
package chardev

import (
	"errors"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// Kind is the trace kind of the file layer's events (usb_register_dev,
// usb_deregister_dev, chrdev_open, vfs_read, vfs_write, vfs_ioctl, __fput).
const Kind trace.Kind = "chardev"

// Errors. ErrNoDevice is the driver core's -ENODEV.
var (
	// ErrNoDevice is -ENODEV: no device behind the minor (open), or the
	// device is gone (what drivers return from file operations).
	ErrNoDevice = device.ErrNoDevice
	// ErrBadFD is -EBADF: an operation on a released File.
	ErrBadFD = &device.Errno{Name: "EBADF", Desc: "bad file descriptor"}
	// ErrExFull is -EXFULL: no free minor (usb_register_dev).
	ErrExFull = &device.Errno{Name: "EXFULL", Desc: "exchange full (no free minor)"}
	// ErrNotSupported is -EINVAL for an operation the driver does not
	// implement (-ENOTTY for ioctl is reported the same way).
	ErrNotSupported = errors.New("chardev: operation not supported (-EINVAL)")
)

// FaultRegister is the fault point consulted (under a scheduler) by
// Register: sim fault rules on it make usb_register_dev fail.
const FaultRegister = "usb_register_dev"

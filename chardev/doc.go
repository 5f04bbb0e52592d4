// Package chardev is the kernel's character-device layer (fs/char_dev.c,
// the open/read/write/ioctl/close half of fs/open.c, fs/read_write.c,
// fs/ioctl.c and fs/file_table.c) and its device classes
// (drivers/base/class.c, device_create/device_destroy), for any driver on
// a drvsim machine: a platform driver, a USB class driver, the DRM core.
//
// # Numbers, cdevs and nodes
//
// A driver reserves device numbers (RegisterRegion, AllocRegion:
// register_chrdev_region, alloc_chrdev_region), makes a Cdev live on them
// (Cdev.Add, cdev_add) and publishes a node: a device with that number in
// a Class (Class.CreateDevice, device_create), for which the driver core
// creates /dev/<name> (devtmpfs). Cdev.DeviceAdd (cdev_device_add) does the
// last two for a device the driver embeds next to its cdev.
//
// # Files outlive devices
//
// Open (open(2) of /dev/<name>, chrdev_open) looks the number up, takes a
// reference on the cdev (cdev_get) and runs the cdev's FileOperations.Open.
// The File it returns goes through the file's operations for every Read,
// Write, Ioctl and Poll, and its last reference (Close, or the last Put)
// runs FileOperations.Release and then drops the cdev reference (__fput,
// cdev_put). Cdev.Del (cdev_del) only unmaps the numbers: later opens fail
// with -ENXIO, while files already open keep calling the old operations,
// whatever the driver has freed since. That is the classic lifetime bug
// of character drivers: state freed at unbind while a file is open; and
// the cdev itself, when the driver embeds it in memory it frees at unbind,
// is touched by that last fput. Cdev.EmbedIn puts a cdev in a simulated
// allocation so that the sanitizer reports it.
//
// # Revoking the file operations
//
// Active is the other answer, proposed for the kernel and built into
// kernfs and debugfs: the driver's operations run under active
// references, and a revoke (Active.Revoke, or Cdev.Del of a cdev whose
// operations are an Active's) refuses new calls, waits for those in
// flight, releases the open files and detaches them from the cdev. After
// it, no code of the driver runs for those files, and nothing of the
// driver's is touched by their last fput.
//
// # One machine
//
// The tables (the majors, the number-to-cdev map, the classes) are the
// machine's: every function takes the machine from the env.Host it is
// given (a device, a System, a subsystem), and two machines share nothing.
// Under the simulator every open, read, write, ioctl, poll, close and put
// is a schedule point, and every step is a trace event of Kind (the
// classes' of KindClass) named after the kernel function.
package chardev

import (
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// Trace kinds of the package's events.
const (
	// Kind: register_chrdev_region, alloc_chrdev_region,
	// unregister_chrdev_region, register_chrdev, unregister_chrdev,
	// cdev_add, cdev_del, do_filp_open, chrdev_open, vfs_read, vfs_write,
	// vfs_ioctl, vfs_poll, __fput.
	Kind trace.Kind = "chardev"
	// KindClass: class_register, class_unregister.
	KindClass trace.Kind = "class"
)

// Errors, the errnos the kernel returns on these paths (the values of
// package device: errors.Is matches either name).
var (
	// ErrNoDeviceOrAddress is -ENXIO: open of a number no cdev is added
	// for (chrdev_open's kobj_lookup failing), as after cdev_del.
	ErrNoDeviceOrAddress = device.ErrNoDeviceOrAddress
	// ErrNoDevice is -ENODEV: what drivers' opens and operations return
	// once their device is gone (usb_open of a free minor, skel_read after
	// disconnect).
	ErrNoDevice = device.ErrNoDevice
	// ErrNoEntry is -ENOENT: open of a path with no node under /dev.
	ErrNoEntry = device.ErrNoEntry
	// ErrBusy is -EBUSY: a number range that overlaps a registered one, no
	// free dynamic major, a cdev added twice, a class with devices left.
	ErrBusy = device.ErrBusy
	// ErrInvalid is -EINVAL: a major or minor range out of bounds, a bad
	// name, a read or write on a file without that operation, a negative
	// count.
	ErrInvalid = device.ErrInvalid
	// ErrExist is -EEXIST: a class name or a class device name taken.
	ErrExist = device.ErrExist
	// ErrBadFile is -EBADF: an operation on a closed File.
	ErrBadFile = device.ErrBadFile
	// ErrNoTTY is -ENOTTY: ioctl on a file without unlocked_ioctl (and a
	// driver's answer to a command it does not know).
	ErrNoTTY = device.ErrNoTTY
)

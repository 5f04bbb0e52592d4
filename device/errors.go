package device

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/env"
)

// Errno is an error that stands for a kernel errno value. The sentinels
// below are Errnos; errors.Is works on them through any wrapping.
type Errno struct {
	// Name is the errno's name, e.g. "EPROBE_DEFER".
	Name string
	// Desc is the human-readable description.
	Desc string
}

// Error renders the errno as the description with the kernel name, e.g.
// "probe deferred (-EPROBE_DEFER)", as strerror plus errname would.
func (e *Errno) Error() string { return fmt.Sprintf("%s (-%s)", e.Desc, e.Name) }

// Sentinel errors named after the kernel errnos. Every errno drvsim uses
// is defined here, once; the subsystem packages (usbsim, drmsim, chardev)
// give the ones they return their own names as aliases of these values, so
// errors.Is matches any of the names. The driver core's come first.
var (
	// ErrProbeDefer is -EPROBE_DEFER: probe again later, when a dependency
	// may be ready (driver_deferred_probe_add).
	ErrProbeDefer = &Errno{"EPROBE_DEFER", "probe deferred"}
	// ErrNoDevice is -ENODEV: "not my device" from probe (quiet), or the
	// device is dead or not registered (__driver_probe_device).
	ErrNoDevice = &Errno{"ENODEV", "no such device"}
	// ErrNoEntry is -ENOENT: the object looked up does not exist (a sysfs
	// file, a driver, a devres). From probe it is an ordinary failure.
	ErrNoEntry = &Errno{"ENOENT", "no such entry"}
	// ErrNoDeviceOrAddress is -ENXIO, the other quiet "not mine" probe
	// result.
	ErrNoDeviceOrAddress = &Errno{"ENXIO", "no such device or address"}
	// ErrBusy is -EBUSY: the device already has a driver, or devres was
	// present before probe (really_probe).
	ErrBusy = &Errno{"EBUSY", "device or resource busy"}
	// ErrInvalid is -EINVAL: a malformed request (driver_register without a
	// bus, a device without a name, ...).
	ErrInvalid = &Errno{"EINVAL", "invalid argument"}
	// ErrExist is -EEXIST: registering something twice, or a duplicate name.
	ErrExist = &Errno{"EEXIST", "already exists"}
	// ErrTimedOut is -ETIMEDOUT: a wait that ran out of time (a driver's
	// wait_for_completion_timeout, a transfer that did not complete in
	// time: usb_start_wait_urb), and what driver_deferred_probe_check_state
	// answers for a missing optional dependency once the deferred-probe
	// timeout has fired.
	ErrTimedOut = &Errno{"ETIMEDOUT", "timed out"}
	// ErrDeadlock is -EDEADLK: a task tried to take a device lock it holds
	// already (what lockdep reports as a recursive locking deadlock).
	ErrDeadlock = &Errno{"EDEADLK", "resource deadlock avoided"}
	// ErrIO is -EIO, a generic probe failure.
	ErrIO = &Errno{"EIO", "input/output error"}
	// ErrNoMemory is -ENOMEM.
	ErrNoMemory = &Errno{"ENOMEM", "out of memory"}
	// ErrAgain is -EAGAIN: a manual bind that deferred (device_driver_attach).
	ErrAgain = &Errno{"EAGAIN", "try again"}
	// ErrNameTooLong is -ENAMETOOLONG: a name longer than NAME_MAX or a
	// sysfs path longer than PATH_MAX.
	ErrNameTooLong = &Errno{"ENAMETOOLONG", "file name too long"}
)

// Errnos of the file layer (fs/, package chardev) and of the subsystems
// above the driver core.
var (
	// ErrBadFile is -EBADF: an operation on a file descriptor that is
	// closed.
	ErrBadFile = &Errno{"EBADF", "bad file descriptor"}
	// ErrExFull is -EXFULL: no free minor number (usb_register_dev).
	ErrExFull = &Errno{"EXFULL", "exchange full (no free minor)"}
	// ErrNoSpace is -ENOSPC: no space left (an index allocator full).
	ErrNoSpace = &Errno{"ENOSPC", "no space left"}
	// ErrAddrInUse is -EADDRINUSE: an address (a minor number) taken.
	ErrAddrInUse = &Errno{"EADDRINUSE", "address already in use"}
	// ErrNoTTY is -ENOTTY: an ioctl the file does not know (vfs_ioctl on a
	// file without unlocked_ioctl, a driver's unknown command).
	ErrNoTTY = &Errno{"ENOTTY", "inappropriate ioctl for device"}
	// ErrTooManyFiles is -EMFILE: the process's file table is full
	// (RLIMIT_NOFILE).
	ErrTooManyFiles = &Errno{"EMFILE", "too many open files"}
	// ErrNotSupported is -EOPNOTSUPP: an operation the driver does not
	// support.
	ErrNotSupported = &Errno{"EOPNOTSUPP", "operation not supported"}
	// ErrFault is -EFAULT: a bad address; a CPU access through a user
	// mapping that the process would get a signal for.
	ErrFault = &Errno{"EFAULT", "bad address (SIGBUS or SIGSEGV)"}
	// ErrPerm is -EPERM: operation not permitted.
	ErrPerm = &Errno{"EPERM", "operation not permitted"}
	// ErrShutdown is -ESHUTDOWN: cannot send after transport endpoint
	// shutdown.
	ErrShutdown = &Errno{"ESHUTDOWN", "cannot send after transport endpoint shutdown"}
	// ErrConnReset is -ECONNRESET: connection reset by peer.
	ErrConnReset = &Errno{"ECONNRESET", "connection reset by peer"}
	// ErrProto is -EPROTO: protocol error.
	ErrProto = &Errno{"EPROTO", "protocol error"}
	// ErrPipe is -EPIPE: broken pipe (for USB: the endpoint stalled).
	ErrPipe = &Errno{"EPIPE", "broken pipe (endpoint stalled)"}
	// ErrInProgress is -EINPROGRESS: operation now in progress.
	ErrInProgress = &Errno{"EINPROGRESS", "operation now in progress"}
	// ErrHostUnreach is -EHOSTUNREACH: no route to host (for USB: the
	// device is suspended and takes no URBs).
	ErrHostUnreach = &Errno{"EHOSTUNREACH", "no route to host"}
	// ErrIdentifierRemoved is -EIDRM: identifier removed.
	ErrIdentifierRemoved = &Errno{"EIDRM", "identifier removed (URB not linked)"}
	// ErrNoData is -ENODATA: no data available (a property a power supply
	// does not have).
	ErrNoData = &Errno{"ENODATA", "no data available"}
)

// ErrnoName renders err the way the kernel's dev_err messages print a return
// value: "0" for nil, "-EPROBE_DEFER" for a sentinel (wrapped or not),
// "Oops" for a callback that panicked (env.ErrOops), and the error text for
// anything else.
func ErrnoName(err error) string {
	if err == nil {
		return "0"
	}
	if errors.Is(err, env.ErrOops) {
		return "Oops"
	}
	var e *Errno
	if errors.As(err, &e) {
		return "-" + e.Name
	}
	return err.Error()
}

package drmsim

import "github.com/drvsim/drvsim/device"

// Sentinel errors of the DRM core, named after the kernel errnos its entry
// points return; test with errors.Is. The ones the driver core already
// defines are the same values.
var (
	// ErrNoDevice is -ENODEV: drm_open of a minor that is not registered
	// (drm_minor_acquire), drm_ioctl on an unplugged device, and a
	// drm_dev_enter section refused in a driver's hardware path.
	ErrNoDevice = device.ErrNoDevice
	// ErrInvalid is -EINVAL: an unknown ioctl number (drm_ioctl), a bad
	// argument, a nil driver or parent.
	ErrInvalid = device.ErrInvalid
	// ErrBusy is -EBUSY: a mode-config suspend while one is saved.
	ErrBusy = device.ErrBusy
	// ErrNoEntry is -ENOENT: an unknown GEM handle or mmap offset
	// (drm_gem_object_lookup, drm_gem_mmap).
	ErrNoEntry = device.ErrNoEntry
	// ErrExist is -EEXIST: drm_dev_register twice.
	ErrExist = device.ErrExist
	// ErrNoMemory is -ENOMEM: an allocation failing, here only by fault
	// injection (drmm_add_action).
	ErrNoMemory = device.ErrNoMemory
	// ErrNoSpace is -ENOSPC: no free minor index (drm_minor_alloc).
	ErrNoSpace = device.ErrNoSpace
	// ErrBadFile is -EBADF: an operation on a file that was already closed
	// (in the kernel the fd would no longer resolve).
	ErrBadFile = device.ErrBadFile
	// ErrNotSupported is -EOPNOTSUPP: DRM_IOCTL_MODE_DIRTYFB on a driver
	// without a dirty callback.
	ErrNotSupported = device.ErrNotSupported
	// ErrFault is -EFAULT: a CPU access through a user mapping that the
	// process would get a signal for: past the end of the object (SIGBUS
	// from drm_gem_shmem_fault's range check) or after munmap (SIGSEGV).
	// A store after drm_dev_unplug is not one: the shmem fault handler
	// maps the pages again (see Mapping).
	ErrFault = device.ErrFault
)

// Package drmsim models the lifetime rules of the Linux DRM core
// (drivers/gpu/drm/drm_drv.c, drm_managed.c, drm_file.c, drm_ioctl.c,
// drm_gem.c) on top of the drvsim driver core: a drm device allocated
// against a parent device, reference-counted, registered and unregistered
// or hot-unplugged; files that outlive an unplug; ioctls that fail with
// -ENODEV afterwards; drmm managed actions that run at the last reference,
// later than the parent's devm actions.
//
// # The pieces
//
// A Class is the DRM core of one simulated system (drm_core_init: the drm
// class, the DRM major 226 with its stub file operations, the minor
// xarray), on the generic character-device layer of package chardev.
// DevAlloc (drm_dev_alloc) and DevmDevAlloc (devm_drm_dev_alloc) create a
// Device against a parent *device.Device, with its minor's device
// "card<N>" initialized; Register (drm_dev_register) adds that device, so
// /dev/dri/cardN appears, and makes the minor openable; Class.Open
// (open(2): chrdev_open, drm_stub_open, drm_open) returns a File (the
// drm_file behind a chardev.File), which holds a reference on the Device
// until its last close (drm_release). File.Ioctl (drm_ioctl)
// dispatches a small table: DRM_IOCTL_VERSION, DRM_IOCTL_MODE_CREATE_DUMB,
// DRM_IOCTL_MODE_MAP_DUMB and DRM_IOCTL_MODE_DIRTYFB, the one that reaches
// the hardware through the Driver's Dirty callback. File.Mmap maps a
// buffer object; drm_dev_unplug zaps the mappings (unmap_mapping_range),
// and the next store faults the shmem pages in again (drm_gem_shmem_fault).
//
// # Unplug on a revocable provider
//
// The kernel protects hardware access with one global SRCU domain,
// drm_unplug_srcu: drm_dev_enter takes its read lock and checks
// dev->unplugged, drm_dev_unplug sets the flag and calls synchronize_srcu.
// Here every Device owns a revocable.Provider whose resource is its
// hardware presence (Presence) and a consumer handle on it. Device.Enter
// (drm_dev_enter) is TryAccess on that handle and the returned Access is
// the index (Idx) that Device.Exit (drm_dev_exit) releases;
// Device.Unplug (drm_dev_unplug) is Revoke, then drm_dev_unregister, then
// unmap_mapping_range. Drivers written against the classic API keep it;
// new drivers may open their own handle on Device.Presence with
// revocable.New and use Consumer.OrReturn. An unplug waits only for the
// sections of its own device, never for another GPU's readers.
//
// # Lifetimes
//
// DevmDevAlloc hands the allocation's reference to the parent's devres
// list: it is dropped at unbind, with the parent's other devm actions.
// Open files hold their own references, so the Device, and everything
// registered with AddAction or Kzalloc (drmm_add_action, drmm_kzalloc),
// lives until the last close; then drm_dev_release runs the driver's
// Release and the drmm actions, newest first (drm_managed_release), and
// frees the device. The core's own drmm actions (drm_minor_alloc_release,
// drm_dev_init_release: closing the consumer handle and dropping the
// parent reference) run last.
//
// # Tracing and deterministic runs
//
// Every lifecycle step is a trace event (kinds in kinds.go) named after
// the kernel function: drm_dev_init, drm_dev_register, drm_minor_register,
// drm_open, drm_ioctl, drm_dev_unplug, drm_dev_unregister,
// unmap_mapping_range, drm_release, drm_dev_get, drm_dev_put,
// drm_dev_release, drm_managed_release. Enter and Exit record nothing:
// they are the hot path. With a scheduler on the Class's host (a sim.Sim),
// the file layer's open, ioctl, mmap and close, drm_dev_register,
// drm_dev_unplug and each drmm release are schedule points, the
// provider's read sections and grace period are too, and the device, file
// and buffer allocations are objects of the Sim's memory arena, so a use
// after free is reported.
// The package starts no goroutine.
package drmsim

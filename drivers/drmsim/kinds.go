package drmsim

import "github.com/drvsim/drvsim/trace"

// Trace event kinds of the DRM core. Every event carries the kernel
// function it models in trace.Event.Func and the drm device's minor path
// (".../drm/card0") in trace.Event.Dev.
const (
	// KindDevice: drm_dev_init, drm_dev_register, drm_dev_unregister,
	// drm_dev_unplug, drm_dev_get, drm_dev_put, drm_dev_release,
	// drm_minor_register, drm_minor_unregister, unmap_mapping_range
	// (drm_drv.c).
	KindDevice trace.Kind = "drm.device"
	// KindManaged: drmm_add_action, drmm_kzalloc, drm_managed_release
	// (drm_managed.c).
	KindManaged trace.Kind = "drm.managed"
	// KindFile: drm_open, drm_release (drm_file.c).
	KindFile trace.Kind = "drm.file"
	// KindIoctl: drm_ioctl (drm_ioctl.c), one event per call with its
	// result.
	KindIoctl trace.Kind = "drm.ioctl"
	// KindGEM: drm_gem_object_init, drm_gem_object_free, drm_gem_mmap,
	// drm_gem_release (drm_gem.c), drm_gem_shmem_fault
	// (drm_gem_shmem_helper.c).
	KindGEM trace.Kind = "drm.gem"
)

// FaultDrmmAdd is the fault point consulted by AddAction and Kzalloc under
// a scheduler: the kernel's drmm_add_action / drmm_kmalloc failing with
// -ENOMEM.
const FaultDrmmAdd = "drmm_add_action"

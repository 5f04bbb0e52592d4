package drmsim_test

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/trace"
)

// A drm device on a hot-unpluggable parent: the hardware path is
// bracketed by drm_dev_enter/drm_dev_exit (Enter/Exit); after
// drm_dev_unplug (Unplug) Enter fails, and an ioctl on a file opened
// before the unplug returns -ENODEV, while the file itself stays valid
// until its close, which drops the last reference (drm_dev_release).
func Example() {
	sys := drvsim.NewSystem()
	defer sys.Close()
	class := drmsim.NewClass(sys) // drm_core_init
	parent := sys.NewPlatformDevice("gpu")
	if err := sys.RegisterDevice(parent); err != nil {
		panic(err)
	}

	drm, err := drmsim.DevAlloc(class, &drmsim.Driver{Name: "gpu"}, parent) // drm_dev_alloc
	if err != nil {
		panic(err)
	}
	if err := drm.Register(); err != nil { // drm_dev_register: /dev/dri/card0
		panic(err)
	}
	f, err := class.Open("card0") // open("/dev/dri/card0"): drm_open
	if err != nil {
		panic(err)
	}

	if idx, ok := drm.Enter(); ok { // drm_dev_enter
		fmt.Println("hardware access inside drm_dev_enter")
		drm.Exit(idx) // drm_dev_exit
	}

	drm.Unplug() // drm_dev_unplug: the USB cable is pulled
	_, ok := drm.Enter()
	fmt.Println("drm_dev_enter after unplug:", ok)
	err = f.Ioctl(drmsim.IoctlVersion, &drmsim.VersionArgs{}) // DRM_IOCTL_VERSION
	fmt.Println("ioctl after unplug is -ENODEV:", errors.Is(err, drmsim.ErrNoDevice))

	drm.Put() // the driver's reference (drm_dev_put)
	fmt.Println("released while open:", drm.Released())
	f.Close() // close(2): drm_release drops the last reference
	fmt.Println("released after close:", drm.Released())

	for _, s := range trace.Shorts(trace.Filter(sys.Events(),
		trace.OfKind(drmsim.KindDevice, drmsim.KindFile, drmsim.KindIoctl))) {
		fmt.Println(s)
	}
	// Output:
	// hardware access inside drm_dev_enter
	// drm_dev_enter after unplug: false
	// ioctl after unplug is -ENODEV: true
	// released while open: false
	// released after close: true
	// drm_dev_init /sys/devices/platform/gpu/drm/card0: driver=gpu parent=gpu refs=1
	// drm_minor_register /sys/devices/platform/gpu/drm/card0: /dev/dri/card0
	// drm_dev_register /sys/devices/platform/gpu/drm/card0: Initialized gpu 0.0.0 for gpu on minor 0
	// drm_dev_get /sys/devices/platform/gpu/drm/card0: refs=2 (drm_minor_acquire)
	// drm_open /sys/devices/platform/gpu/drm/card0: file 1 opened
	// drm_dev_unplug /sys/devices/platform/gpu/drm/card0: unplugged, waiting for drm_dev_enter sections
	// drm_dev_unplug /sys/devices/platform/gpu/drm/card0: every drm_dev_enter section has ended
	// drm_dev_unregister /sys/devices/platform/gpu/drm/card0
	// drm_minor_unregister /sys/devices/platform/gpu/drm/card0: /dev/dri/card0
	// unmap_mapping_range /sys/devices/platform/gpu/drm/card0: 0 user mappings zapped
	// drm_ioctl /sys/devices/platform/gpu/drm/card0: file 1 DRM_IOCTL_VERSION ret=-ENODEV
	// drm_dev_put /sys/devices/platform/gpu/drm/card0: refs=1
	// drm_release /sys/devices/platform/gpu/drm/card0: file 1
	// drm_dev_put /sys/devices/platform/gpu/drm/card0: refs=0
	// drm_dev_release /sys/devices/platform/gpu/drm/card0: last reference dropped
}

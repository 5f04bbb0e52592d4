// Package udlsim is a USB display driver for the drvsim DRM model, modelled
// on drivers/gpu/drm/udl (DisplayLink) and gud: it binds to a usbsim
// interface by id table, allocates a drm device with the interface as its
// parent (devm_drm_dev_alloc), registers it, and flushes damaged
// framebuffer lines to the device as bulk URBs. Disconnect unplugs the drm
// device (drm_dev_unplug), so that a flush in flight finishes (or fails
// with -ENODEV) before udl_drop_usb frees the URBs and their buffers, and
// later ioctls fail with -ENODEV while open files keep the drm device
// alive until their last close.
//
// The driver comes in three variants, for teaching and for the lifecycle
// tests:
//
//   - Classic brackets the flush with drm_dev_enter / drm_dev_exit
//     (Device.Enter, Device.Exit), as udl does.
//   - Revocable holds its own revocable handle on the drm device's
//     presence provider and runs the flush inside Consumer.OrReturn.
//   - Broken flushes without either: a flush racing an unplug touches URB
//     buffers that disconnect already freed, and under sim.Explore the
//     sanitizer reports the use-after-free.
//
// URB buffers are simulated allocations of the machine's memory arena, so
// every touch of freed memory is reported. The package is a model: it
// takes its environment from the USB and DRM cores it binds on and never
// imports the simulator. Its scenarios (a machine with the driver
// registered, the flush racing an unplug, the narrated demo of the drvsim
// CLI) are in package udlsim/scenario.
package udlsim

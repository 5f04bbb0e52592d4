package scenario_test

import (
	"fmt"
	"strings"

	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/trace"
)

// A process has the revocable usb-skeleton open with a read in flight when
// the device is unplugged. The run is deterministic: the reader blocks in
// usb_bulk_msg, the unplug terminates its URB (-ESHUTDOWN) and runs
// skel_disconnect, which revokes the provider, waiting in synchronize_srcu
// for the reader to leave its read section; every later read returns
// -ENODEV, a new open finds no /dev/skel0 (-ENOENT), and the last close
// frees the state.
func ExampleUnplugMidRead() {
	res, m := scenario.UnplugMidRead(skel.Revocable)
	fmt.Println("failed:", res.Failed())
	fmt.Println("read in flight:", m.FirstErr)
	fmt.Println("read after unplug:", m.SecondErr)
	fmt.Println("open after unplug:", m.ReopenErr)

	for _, e := range scenario.DemoEvents(res.Events) {
		switch {
		case e.Func == "usb_hcd_giveback_urb", e.Func == "vfs_read", e.Func == "skel_disconnect",
			e.Kind == trace.Revoke, e.Func == "revocable_provider_release", e.Func == "__fput",
			e.Func == "schedule" && strings.Contains(e.Msg, "block"):
			fmt.Printf("[%s] %s\n", e.Task, e.Short())
		}
	}
	// Output:
	// failed: false
	// read in flight: no such device (-ENODEV) (urb status -ESHUTDOWN)
	// read after unplug: skel_read: no such device (-ENODEV) (revocable_try_access skel 1-1:1.0: revocable: resource revoked (-ENODEV))
	// open after unplug: open /dev/skel0: no such entry (-ENOENT)
	// [reader] schedule: block usb_start_wait_urb urb 1 ep81 -> unplug
	// [unplug] usb_hcd_giveback_urb /sys/devices/usb1/1-1: urb 1 ep81 status=-ESHUTDOWN actual=0
	// [unplug] revocable_provider_revoke skel 1-1:1.0: start
	// [unplug] schedule: block synchronize_srcu skel 1-1:1.0 -> reader
	// [reader] vfs_read /dev/skel0: -ENODEV
	// [reader] schedule: block remove uevent -> unplug
	// [unplug] revocable_provider_revoke skel 1-1:1.0: grace period done
	// [unplug] skel_disconnect /sys/devices/usb1/1-1/1-1:1.0: USB Skeleton #192 now disconnected
	// [reader] vfs_read /dev/skel0: -ENODEV
	// [reader] revocable_provider_release skel 1-1:1.0: released
	// [reader] __fput /dev/skel0: release 0
}

package skel_test

import (
	"fmt"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/drivers/usbsim/skel"
	"github.com/drvsim/drvsim/trace"
)

// Plug a skeleton device into port 1 of the root hub, open its file,
// write to it and read the bytes back through the loopback device, then
// unplug it: the open file now reads -ENODEV.
func Example() {
	rig, err := scenario.NewRig(skel.Revocable, drvsim.NewSystem())
	if err != nil {
		panic(err)
	}
	defer rig.Close()
	lb := usbsim.NewLoopback(0)
	dev, _ := rig.Plug(1, lb)                   // hub_port_connect: binds skel-revocable
	f, _ := chardev.Open(rig.Sys, "/dev/skel0") // open(2): chrdev_open -> usb_open -> skel_open
	f.Write([]byte("hello"))
	rig.HCD.Flush() // the write URB's completion runs
	b, _ := f.Read(64)
	fmt.Printf("%s read %q\n", f.Path(), b)

	dev.Disconnect() // usb_disconnect
	_, err = f.Read(64)
	fmt.Println("after unplug:", err)
	f.Close()

	for _, e := range trace.Filter(rig.Log().Events(), trace.OfKind(skel.Kind, trace.Revoke)) {
		fmt.Println(e.Short())
	}
	// Output:
	// /dev/skel0 read "hello"
	// after unplug: skel_read: no such device (-ENODEV) (revocable_try_access skel 1-1:1.0: revocable: resource revoked (-ENODEV))
	// skel_probe /sys/devices/usb1/1-1/1-1:1.0: USB Skeleton device now attached to USBSkel-192
	// revocable_provider_revoke skel 1-1:1.0: start
	// revocable_provider_revoke skel 1-1:1.0: grace period done
	// skel_disconnect /sys/devices/usb1/1-1/1-1:1.0: USB Skeleton #192 now disconnected
}

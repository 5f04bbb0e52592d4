package usbsim_test

import (
	"fmt"
	"slices"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/trace"
)

// A USB interface driver matched by vendor and product id: plugging the
// device enumerates it (hub_port_connect, usb_new_device), configures it
// and binds its interface (usb_probe_interface); unplugging it runs
// usb_disconnect, which unbinds the interface before the usb_device goes.
// The USB core's trace events are printed as they happen, so the driver's
// own lines show where its probe and disconnect run.
func Example() {
	sys := drvsim.NewSystem()
	defer sys.Close()
	usb, err := usbsim.Init(sys) // usb_init: the usb bus, hub and generic drivers
	if err != nil {
		panic(err)
	}
	hcd, err := usb.AddHCD(2) // usb_add_hcd: root hub usb1 with 2 ports
	if err != nil {
		panic(err)
	}
	err = usb.Register(&usbsim.Driver{ // usb_register
		Name:    "blink",
		IDTable: []usbsim.DeviceID{usbsim.ID(0x1234, 0x0001)}, // USB_DEVICE(0x1234, 0x0001)
		Probe: func(intf *usbsim.Interface, id usbsim.DeviceID) error {
			fmt.Println("  blink_probe", intf.Name())
			return nil
		},
		Disconnect: func(intf *usbsim.Interface) {
			fmt.Println("  blink_disconnect", intf.Name())
		},
	})
	if err != nil {
		panic(err)
	}

	cancel := sys.Log().Subscribe(func(e trace.Event) {
		if slices.Contains(usbsim.Kinds, e.Kind) {
			fmt.Println(e.Short())
		}
	})
	defer cancel()

	fmt.Println("== plug")
	gadget := usbsim.BulkGadget(0x1234, 0x0001, 64, usbsim.NewLoopback(0))
	dev, err := hcd.RootHub().Plug(1, gadget)
	if err != nil {
		panic(err)
	}
	fmt.Println("== unplug", dev.Name())
	if err := hcd.RootHub().Unplug(1); err != nil {
		panic(err)
	}
	// Output:
	// == plug
	// hub_port_connect /sys/devices/usb1: port 1: new device 1234:0001
	// usb_alloc_dev /sys/devices/usb1/1-1: port 1
	// usb_set_device_state /sys/devices/usb1/1-1: default -> addressed
	// usb_new_device /sys/devices/usb1/1-1: New USB device found, idVendor=1234, idProduct=0001, device number 2
	// usb_probe_device /sys/devices/usb1/1-1: driver=usb
	// usb_set_configuration /sys/devices/usb1/1-1: config #1, 1 interface(s)
	// usb_set_device_state /sys/devices/usb1/1-1: addressed -> configured
	// usb_set_configuration /sys/devices/usb1/1-1/1-1:1.0: adding interface
	// usb_probe_interface /sys/devices/usb1/1-1/1-1:1.0: driver=blink, matched id flags=0x0003 v1234p0001 d00 i00/00/00
	//   blink_probe 1-1:1.0
	// == unplug 1-1
	// hub_port_connect_change /sys/devices/usb1: port 1: connect change, device gone
	// usb_set_device_state /sys/devices/usb1/1-1: configured -> not attached
	// usb_disconnect /sys/devices/usb1/1-1: USB disconnect, device number 2
	// usb_disconnect /sys/devices/usb1/1-1: unregistering device
	// usb_disable_device /sys/devices/usb1/1-1
	// usb_disable_device /sys/devices/usb1/1-1: unregistering interface 1-1:1.0
	// usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: driver=blink soft_unbind=false device_gone=true
	// usb_disable_interface /sys/devices/usb1/1-1/1-1:1.0: terminating URBs
	// usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: driver->disconnect
	//   blink_disconnect 1-1:1.0
	// usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: unbound
	// usb_release_interface /sys/devices/usb1/1-1/1-1:1.0
	// usb_disable_device /sys/devices/usb1/1-1: nuking all URBs
	// usb_unbind_device /sys/devices/usb1/1-1: driver=usb
	// usb_disconnect /sys/devices/usb1/1-1: release_devnum 2, put_device
	// usb_release_dev /sys/devices/usb1/1-1
}

// An interface driver with a character device on the USB major: its probe
// registers a minor (usb_register_dev), which creates the usbmisc class
// device and /dev/lp0; open(2) goes through usb_open to the driver's open,
// which finds its interface by minor (usb_find_interface); disconnect gives
// the minor back and the node goes.
func ExampleUSB_RegisterDev() {
	sys := drvsim.NewSystem()
	defer sys.Close()
	usb, _ := usbsim.Init(sys)
	hcd, _ := usb.AddHCD(1)
	drv := &usbsim.Driver{Name: "lp", IDTable: []usbsim.DeviceID{usbsim.ID(0x1234, 0x0001)}}
	cd := &usbsim.ClassDriver{Name: "lp%d", MinorBase: 0, Fops: &chardev.FileOperations{
		Open: func(f *chardev.File) error {
			intf := usb.FindInterface(drv, f.Minor()) // usb_find_interface
			if intf == nil {
				return usbsim.ErrNoDevice
			}
			f.Private = intf
			return nil
		},
	}}
	drv.Probe = func(intf *usbsim.Interface, _ usbsim.DeviceID) error { return usb.RegisterDev(intf, cd) }
	drv.Disconnect = func(intf *usbsim.Interface) { usb.DeregisterDev(intf, cd) }
	if err := usb.Register(drv); err != nil {
		panic(err)
	}
	dev, _ := hcd.RootHub().Plug(1, usbsim.BulkGadget(0x1234, 0x0001, 64, usbsim.NewLoopback(0)))
	for _, n := range sys.DevNodes() {
		fmt.Println(n.Path(), n.Devt, n.Dev.Path())
	}
	f, err := chardev.Open(sys, "/dev/lp0")
	if err != nil {
		panic(err)
	}
	fmt.Println("opened", f.Private.(*usbsim.Interface).Name())
	dev.Disconnect()
	fmt.Println("nodes after unplug:", len(sys.DevNodes()))
	f.Close()
	// Output:
	// /dev/lp0 180:0 /sys/devices/usb1/1-1/1-1:1.0/usbmisc/lp0
	// opened 1-1:1.0
	// nodes after unplug: 0
}

package bus_test

import (
	"fmt"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
)

// board builds a small machine on a fresh Core: a "soc" device with two
// children, an I2C controller and an audio codec that depends on it
// through a device link (device_link_add). Only the controller's driver
// is registered, so the codec stays unbound.
func board() *bus.Core {
	c := bus.NewCore(nil)
	b := platform.NewBus() // platform_bus_type
	must(c.RegisterBus(b)) // bus_register
	soc := platform.NewDevice(b, "soc")
	must(c.RegisterDevice(soc)) // device_register
	i2c := platform.NewDevice(b, "i2c0", device.WithParent(soc))
	must(c.RegisterDevice(i2c))
	codec := platform.NewDevice(b, "codec", device.WithParent(soc))
	must(c.RegisterDevice(codec))
	must(c.RegisterDriver(platform.NewDriver("i2c0", nil, nil))) // driver_register: binds i2c0
	_, err := c.AddLink(codec, i2c, device.LinkAutoremoveConsumer)
	must(err)
	return c
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// Tree prints what /sys would show: the device hierarchy, each bus with
// its devices and its drivers' bound devices, then the device links.
func ExampleCore_Tree() {
	c := board()
	defer c.Close()
	fmt.Print(c.Tree())
	// Output:
	// /sys/devices
	//   platform/soc bus=platform state=added
	//     platform/soc/i2c0 bus=platform driver=i2c0 state=bound
	//     platform/soc/codec bus=platform state=added
	// /sys/bus/platform
	//   devices: soc i2c0 codec
	//   drivers/i2c0: i2c0
	// links
	//   codec -> i2c0 flags=AUTOREMOVE_CONSUMER
}

// DOT draws the same hierarchy for Graphviz (dot -Tsvg): parent->child
// edges, the device link dashed from consumer to supplier, the unbound
// devices grey.
func ExampleCore_DOT() {
	c := board()
	defer c.Close()
	fmt.Print(c.DOT())
	// Output:
	// digraph devices {
	// 	rankdir=TB;
	// 	node [shape=box, style=rounded, fontname="monospace"];
	// 	"/sys/devices/platform/soc" [label="soc\nbus=platform\nno driver", color=grey, fontcolor=grey];
	// 	"/sys/devices/platform/soc/i2c0" [label="i2c0\nbus=platform\ndriver=i2c0"];
	// 	"/sys/devices/platform/soc/codec" [label="codec\nbus=platform\nno driver", color=grey, fontcolor=grey];
	// 	"/sys/devices/platform/soc" -> "/sys/devices/platform/soc/i2c0";
	// 	"/sys/devices/platform/soc" -> "/sys/devices/platform/soc/codec";
	// 	"/sys/devices/platform/soc/codec" -> "/sys/devices/platform/soc/i2c0" [style=dashed, constraint=false, label="AUTOREMOVE_CONSUMER"];
	// }
}

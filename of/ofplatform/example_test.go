package ofplatform_test

import (
	"fmt"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/of"
	"github.com/drvsim/drvsim/of/ofplatform"
)

// Boot a machine from a device tree: of_platform_populate makes the
// devices, fw_devlink links the consumer to its supplier, and the drivers
// bind in dependency order whatever order the devices come in.
func ExamplePopulate() {
	sys := drvsim.NewSystem()
	defer sys.Close()
	for _, compat := range []string{"acme,codec", "fixed-clock"} {
		drv := platform.NewDriver(compat, func(dev *device.Device) error {
			fmt.Println("probe", dev.Name())
			return nil
		}, nil)
		drv.OFMatchTable = []driver.OFDeviceID{{Compatible: compat}}
		if err := sys.RegisterDriver(drv); err != nil {
			fmt.Println(err)
			return
		}
	}
	_, err := of.Load(sys, "board.dts", []byte(`/dts-v1/;
/ {
	codec { compatible = "acme,codec"; clocks = <&osc>; };
	osc: oscillator { compatible = "fixed-clock"; #clock-cells = <0>; };
};`))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := ofplatform.Populate(sys); err != nil {
		fmt.Println(err)
		return
	}
	codec := sys.FindDevice(platform.Name, "codec")
	fmt.Println(codec.Suppliers()[0].Supplier.Name(), codec.Suppliers()[0].Flags)
	// Output:
	// probe oscillator
	// probe codec
	// oscillator AUTOPROBE_CONSUMER|INFERRED
}

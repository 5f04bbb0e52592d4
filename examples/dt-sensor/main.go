// Command dt-sensor is a sensor driver whose hardware is described in a
// device tree: its interrupt and its supply regulator are properties of
// its node, and fw_devlink turns the regulator's phandle into a device
// link, so the driver's probe only runs once the regulator is there.
//
// The program:
//
//  1. registers the sensor driver (matched by "acme,tmp117" in its
//     of_match_table) and the interrupt controller's;
//  2. loads the tree and populates it: the sensor's device comes first and
//     waits for its supplier ("wait for supplier"), the regulator's device
//     has no driver yet, so the sensor stays deferred ("supplier ... not
//     ready"): its probe is never called;
//  3. registers the regulator driver: the regulator binds, and the sensor,
//     linked with AUTOPROBE_CONSUMER, is probed at once: it reads its
//     properties, finds its regulator, takes its interrupt with
//     devm_request_irq;
//  4. raises the interrupt twice: the handler counts samples;
//  5. unbinds the regulator: the driver core unbinds the sensor first
//     (its consumer), whose devres frees the interrupt.
//
// Run it with:
//
//	go run ./examples/dt-sensor
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/of"
	"github.com/drvsim/drvsim/of/ofplatform"
	"github.com/drvsim/drvsim/trace"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// boardDTS describes the board: an interrupt controller, the sensor on
// its line 17 with a sample rate, and the regulator that powers it. The
// sensor's node comes first, so its device is added before its supplier's.
const boardDTS = `/dts-v1/;
/ {
	#address-cells = <1>;
	#size-cells = <1>;

	intc: interrupt-controller@1000 {
		compatible = "acme,intc";
		reg = <0x1000 0x100>;
		interrupt-controller;
		#interrupt-cells = <1>;
	};

	sensor@2000 {
		compatible = "acme,tmp117";
		reg = <0x2000 0x100>;
		interrupt-parent = <&intc>;
		interrupts = <17>;
		vdd-supply = <&vdd>;
		acme,sample-rate-hz = <8>;
	};

	vdd: regulator {
		compatible = "regulator-fixed";
		regulator-name = "vdd-sensor";
	};
};
`

// chip is the match data of the sensor's of_match_table entries.
type chip struct {
	name       string
	resolution string
}

// sensor is the driver's per-device state.
type sensor struct {
	chip    *chip
	irq     int
	samples int
}

// sensorDriver is the sensor's platform driver.
func sensorDriver() *driver.Driver {
	drv := platform.NewDriver("tmp117", func(dev *device.Device) error {
		c := of.DeviceGetMatchData(dev).(*chip)
		np := of.NodeOf(dev)
		rate, err := np.ReadU32("acme,sample-rate-hz")
		if err != nil {
			return err
		}
		// devm_regulator_get: the supply's device must be bound; with the
		// device link fw_devlink made, it always is by now.
		vdd := ofplatform.FindDevice(np.ParsePhandle("vdd-supply", 0))
		if vdd == nil || vdd.State() != device.StateBound {
			return fmt.Errorf("tmp117: no vdd yet: %w", device.ErrProbeDefer)
		}
		irq, err := ofplatform.GetIRQ(dev, 0)
		if err != nil {
			return err
		}
		s := &sensor{chip: c, irq: irq}
		if err := kernel.DevmRequestIRQ(dev, irq, func(int, any) kernel.IRQReturn {
			s.samples++
			return kernel.IRQHandled
		}, 0, "tmp117", s); err != nil {
			return err
		}
		dev.SetDrvdata(s)
		kernel.DevInfo(dev, "%s (%s), %d Hz, irq %d, powered by %s", c.name, c.resolution, rate, irq, vdd.Name())
		return nil
	}, func(dev *device.Device) {
		s := dev.Drvdata().(*sensor)
		kernel.DevInfo(dev, "remove: %d samples; devres frees irq %d next", s.samples, s.irq)
	})
	drv.OFMatchTable = []driver.OFDeviceID{
		{Compatible: "acme,tmp116", Data: &chip{"tmp116", "0.0078 °C"}},
		{Compatible: "acme,tmp117", Data: &chip{"tmp117", "0.0078 °C, ±0.1 °C"}},
	}
	return drv
}

// simpleDriver is a driver that binds and says so.
func simpleDriver(name, compat string) *driver.Driver {
	drv := platform.NewDriver(name, func(dev *device.Device) error {
		kernel.DevInfo(dev, "%s bound", name)
		return nil
	}, nil)
	drv.OFMatchTable = []driver.OFDeviceID{{Compatible: compat}}
	return drv
}

// brief leaves out the bus notifier, uevent, device lock and refcount
// events.
func brief(evs []trace.Event) string {
	return trace.Text(trace.Filter(evs, func(e trace.Event) bool {
		switch e.Kind {
		case trace.Notify, trace.Uevent, trace.Lock, trace.DeviceRef:
			return false
		}
		return true
	}))
}

func run(w io.Writer) error {
	sys := drvsim.NewSystem()
	defer sys.Close()
	seq := sys.Log().Seq()
	section := func(title string) {
		fmt.Fprintf(w, "%s\n%s", title, brief(sys.Log().Since(seq)))
		seq = sys.Log().Seq()
	}

	if err := sys.RegisterDriver(sensorDriver()); err != nil {
		return err
	}
	if err := sys.RegisterDriver(simpleDriver("acme-intc", "acme,intc")); err != nil {
		return err
	}
	section("drivers:")

	if _, err := of.Load(sys, "board.dts", []byte(boardDTS)); err != nil {
		return err
	}
	if err := ofplatform.Populate(sys); err != nil {
		return err
	}
	section("populate:")
	dev := sys.FindDevice(platform.Name, "2000.sensor")
	if dev == nil || dev.State() != device.StateAdded {
		return errors.New("the sensor should be waiting for its regulator")
	}
	fmt.Fprintf(w, "waiting: %s\n", names(sys.DeferredDevices()))

	if err := sys.RegisterDriver(simpleDriver("reg-fixed", "regulator-fixed")); err != nil {
		return err
	}
	section("regulator driver:")

	for range 2 {
		if err := kernel.RaiseIRQ(sys, 17); err != nil {
			return err
		}
	}
	section("interrupts:")
	s, ok := dev.Drvdata().(*sensor)
	if !ok {
		return errors.New("the sensor did not bind")
	}
	fmt.Fprintf(w, "samples: %d\n", s.samples)

	if err := sys.Unbind(sys.FindDevice(platform.Name, "regulator")); err != nil {
		return err
	}
	section("unbind the regulator:")
	fmt.Fprintf(w, "sensor: %s, irq 17 requested: %v\n", dev.State(), kernel.IRQStat(sys, 17).Handlers > 0)
	return nil
}

func names(devs []*device.Device) string {
	var out []string
	for _, d := range devs {
		out = append(out, d.Name())
	}
	return strings.Join(out, " ")
}

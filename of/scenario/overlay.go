package scenario

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/of/board"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
)

// boardSource is the source of a scenario's board: the 3.3 V regulator and a
// simple-bus with the GPIO controller at 0x10000000 (with gpioExtra among
// its properties) and the nodes of soc after it.
func boardSource(gpioExtra, soc string) []byte {
	return []byte(`/dts-v1/;
/ {
	#address-cells = <1>;
	#size-cells = <1>;

	vdd_3v3: regulator-3v3 {
		compatible = "regulator-fixed";
		regulator-name = "vdd-3v3";
		regulator-min-microvolt = <3300000>;
	};

	soc {
		compatible = "simple-bus";
		#address-cells = <1>;
		#size-cells = <1>;
		ranges;

		gpio0: gpio@10000000 {
			compatible = "acme,gpio";
			reg = <0x10000000 0x1000>;
			gpio-controller;
			#gpio-cells = <2>;
` + gpioExtra + `		};
` + soc + `	};
};
`)
}

// miniBoard is the part of the board the overlay scenario needs: the
// regulator, the GPIO controller and the I2C controller, no sensor yet.
var miniBoard = boardSource(`			interrupt-controller;
			#interrupt-cells = <2>;
`, `
		i2c0: i2c@10001000 {
			compatible = "acme,i2c";
			reg = <0x10001000 0x1000>;
			#address-cells = <1>;
			#size-cells = <0>;
			vcc-supply = <&vdd_3v3>;
		};
`)

// OverlayRemoveOpenFile is the overlay scenario: during setup the board
// boots and the sensor overlay is applied (sensor@49 binds: /dev/sensor0),
// and the file is opened. Task "reader" reads (a sample, or -ENODEV), waits
// for the removal to be complete, reads again (-ENODEV) and closes; task
// "remove" removes the overlay, then finds no node for /dev/sensor0
// (-ENOENT). The sensor's read section has a schedule point (cond_resched
// between two register reads), so the removal's revoke can meet a reader
// inside it.
func OverlayRemoveOpenFile(o *drvsim.Runs) func(*sim.Sim) { return overlayRemove(o, false) }

// overlayRemove is OverlayRemoveOpenFile, with the sensor's file
// operations safe or not (board.Board.UnsafeReads).
func overlayRemove(o *drvsim.Runs, unsafe bool) func(*sim.Sim) {
	return func(s *sim.Sim) {
		sys := o.System(s)
		b, err := board.Register(sys)
		if err != nil {
			panic(err)
		}
		b.UnsafeReads = unsafe
		b.SampleHook = func() { kernel.CondResched(sys, "sensor_read: between register reads") }
		if err := b.Boot(miniBoard); err != nil {
			panic(err)
		}
		ov, err := b.Tree().ApplyOverlay("sensor-overlay.dtso", board.SensorOverlay)
		if err != nil {
			panic(err)
		}
		sensor := b.Tree().FindByPath("/soc/i2c@10001000/sensor@49")
		f, err := chardev.Open(sys, "/dev/sensor0")
		if err != nil {
			panic(err)
		}
		var removed atomic.Bool
		var first, second error
		s.Go("reader", func() {
			_, first = f.Read(4)
			if first != nil && !errors.Is(first, chardev.ErrNoDevice) {
				panic(fmt.Sprintf("first read: want a sample or -ENODEV, got %v", first))
			}
			s.Block(sched.Wait{What: "remove uevent"}, removed.Load)
			_, second = f.Read(4)
			if !errors.Is(second, chardev.ErrNoDevice) {
				panic(fmt.Sprintf("read after removal: want -ENODEV, got %v", second))
			}
			if err := f.Close(); err != nil {
				panic(fmt.Sprintf("close: %v", err))
			}
		})
		s.Go("remove", func() {
			if err := b.Tree().RemoveOverlay(ov.ID()); err != nil {
				panic(err)
			}
			if _, err := chardev.Open(sys, "/dev/sensor0"); !errors.Is(err, chardev.ErrNoEntry) {
				panic(fmt.Sprintf("open after removal: want -ENOENT, got %v", err))
			}
			removed.Store(true)
		})
		s.AddLeakCheck("overlay removal", func() []string {
			var bad []string
			if b.Tree().FindByPath("/soc/i2c@10001000/sensor@49") != nil {
				bad = append(bad, "sensor@49 still in the tree")
			}
			if d := sensor.Fwnode().Device(); d != nil {
				bad = append(bad, "sensor@49 still has a device: "+d.Path())
			}
			if n := sensor.Refs(); n != 0 {
				bad = append(bad, fmt.Sprintf("sensor@49 node still referenced (%d)", n))
			}
			if !f.Released() {
				bad = append(bad, "the file was never released")
			}
			e := ReadThenGone
			if first != nil {
				e = GoneTwice
			}
			return o.End(string(e), bad)
		})
	}
}

// ledBoard is the board part of the supplier scenario: the regulator, the
// GPIO controller and the LED, whose enable line is on the controller.
var ledBoard = boardSource("", `
		led@10002000 {
			compatible = "acme,led";
			reg = <0x10002000 0x100>;
			enable-gpios = <&gpio0 3 0>;
			vdd-supply = <&vdd_3v3>;
		};
`)

// SupplierUnbindVsProbe is the supplier scenario: during setup the board
// boots without the LED driver (the LED's device waits, unbound, linked to
// the GPIO controller and the regulator). Task "modprobe" registers the
// LED driver (driver_attach probes the LED); task "unbind" unbinds the
// GPIO controller (unbind_store). At the end the controller is unbound,
// and so is the LED: unbound by the supplier's unbind after it probed, or
// deferred on the pending list because its supplier was going.
func SupplierUnbindVsProbe(o *drvsim.Runs) func(*sim.Sim) {
	return func(s *sim.Sim) {
		sys := o.System(s)
		b, err := board.Register(sys)
		if err != nil {
			panic(err)
		}
		var led *driver.Driver
		for _, d := range b.Drivers() {
			if d.Name == "acme-led" {
				led = d
			}
		}
		if err := sys.UnregisterDriver(led); err != nil {
			panic(err)
		}
		if err := b.Boot(ledBoard); err != nil {
			panic(err)
		}
		gpio := sys.FindDevice("platform", "10000000.gpio")
		ledDev := sys.FindDevice("platform", "10002000.led")
		if gpio == nil || ledDev == nil || gpio.State() != device.StateBound {
			panic("board not booted")
		}
		var probed atomic.Bool
		probe := led.Probe
		led.Probe = func(d *device.Device) error {
			err := probe(d)
			if err == nil {
				probed.Store(true)
			}
			return err
		}
		s.Go("modprobe", func() {
			if err := sys.RegisterDriver(led); err != nil {
				panic(err)
			}
		})
		s.Go("unbind", func() {
			if err := sys.Unbind(gpio); err != nil {
				panic(err)
			}
		})
		s.AddLeakCheck("supplier unbind", func() []string {
			var bad []string
			if gpio.State() != device.StateAdded {
				bad = append(bad, "gpio: "+gpio.State().String())
			}
			if ledDev.State() != device.StateAdded {
				bad = append(bad, "led left "+ledDev.State().String()+" with its supplier unbound")
			}
			deferred := false
			for _, d := range sys.DeferredDevices() {
				deferred = deferred || d == ledDev
			}
			e := ProbedThenUnbound
			if !probed.Load() {
				e = DeferredSupplierGone
				if !deferred {
					bad = append(bad, "led neither probed nor deferred")
				}
			}
			return o.End(string(e), bad)
		})
	}
}

// OverlayHotplugVsOpen is the hot-plug scenario: during setup the board
// boots (no sensor); task "hotplug" applies the sensor overlay (the node
// is attached, its device made and probed, /dev/sensor0 published) and
// removes it again; task "user" opens /dev/sensor0, reads it and closes
// it. Every open finds the node or -ENOENT (or -ENXIO: the node is there
// but its cdev is gone), every read a sample or -ENODEV, and at the end
// the node, its device and every allocation are gone.
func OverlayHotplugVsOpen(o *drvsim.Runs) func(*sim.Sim) {
	return func(s *sim.Sim) {
		sys := o.System(s)
		b, err := board.Register(sys)
		if err != nil {
			panic(err)
		}
		if err := b.Boot(miniBoard); err != nil {
			panic(err)
		}
		var ending Ending
		s.Go("hotplug", func() {
			ov, err := b.Tree().ApplyOverlay("sensor-overlay.dtso", board.SensorOverlay)
			if err != nil {
				panic(err)
			}
			if err := b.Tree().RemoveOverlay(ov.ID()); err != nil {
				panic(err)
			}
		})
		s.Go("user", func() {
			f, err := chardev.Open(sys, "/dev/sensor0")
			if err != nil {
				if !errors.Is(err, chardev.ErrNoEntry) && !errors.Is(err, chardev.ErrNoDeviceOrAddress) && !errors.Is(err, chardev.ErrNoDevice) {
					panic(fmt.Sprintf("open: want the sensor, -ENOENT, -ENXIO or -ENODEV, got %v", err))
				}
				ending = NoNode
				return
			}
			_, err = f.Read(4)
			switch {
			case err == nil:
				ending = ReadWhilePlugged
			case errors.Is(err, chardev.ErrNoDevice):
				ending = OpenedThenGone
			default:
				panic(fmt.Sprintf("read: want a sample or -ENODEV, got %v", err))
			}
			if err := f.Close(); err != nil {
				panic(fmt.Sprintf("close: %v", err))
			}
		})
		s.AddLeakCheck("hot-plug", func() []string {
			var bad []string
			if n := b.Tree().FindByPath("/soc/i2c@10001000/sensor@49"); n != nil {
				bad = append(bad, "sensor@49 still in the tree")
			}
			if d := sys.FindDevice("platform", "10001000.i2c:sensor@49"); d != nil {
				bad = append(bad, "sensor@49's device still registered")
			}
			return o.End(string(ending), bad)
		})
	}
}

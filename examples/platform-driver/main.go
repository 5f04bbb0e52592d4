// Command platform-driver is a minimal platform driver with devm-managed
// resources, and what the driver core does with them.
//
// The driver is for a TMP102-like temperature sensor. Its probe turns the
// sensor's clock on, enables its supply regulator and requests its
// interrupt; after each step it registers, with devres, the action that
// undoes it (devm_add_action_or_reset). It never undoes anything by hand:
//
//   - when the device is unbound (echo tmp102.0 > unbind) or removed
//     (device_del), the driver core calls remove and then
//     devres_release_all, which runs the actions newest first;
//   - when probe fails midway, the core runs devres_release_all too, so the
//     steps that succeeded are undone, newest first, and nothing leaks.
//
// Run it with:
//
//	go run ./examples/platform-driver
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/trace"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// board is the simulated hardware the driver talks to. It counts who keeps
// each resource switched on, so that we can check, at the end, that every
// devm action ran exactly once.
type board struct {
	// chipID is what each sensor's ID register reads. 0x75 is the ID the
	// driver expects; tmp102.1 is a board with the wrong part soldered on.
	chipID map[string]uint8
	// Users of the clock and the regulator, and interrupts requested.
	clkUsers, vddUsers, irqs int
}

// wantChipID is the value of a genuine sensor's ID register.
const wantChipID = 0x75

// tmp102 is the driver's per-device state (what a C driver would kzalloc
// in probe and hand to dev_set_drvdata).
type tmp102 struct {
	irq int
}

// newDriver returns the platform driver (struct platform_driver) for the
// sensors on hw. Its name, "tmp102", is what it matches: platform devices
// named "tmp102.N".
func newDriver(hw *board) *driver.Driver {
	probe := func(dev *device.Device) error {
		res := dev.Devres() // the device's devres list

		// clk_prepare_enable(data->clk) ...
		hw.clkUsers++
		// ... and devm_add_action_or_reset(dev, clk_disable_unprepare, clk):
		// if registering the action fails, it runs at once, so the clock
		// is not left on.
		if _, err := res.AddOrReset("clk_disable_unprepare", func() { hw.clkUsers-- }); err != nil {
			return err
		}

		// regulator_enable(vdd), undone by regulator_disable.
		hw.vddUsers++
		if _, err := res.AddOrReset("regulator_disable vdd", func() { hw.vddUsers-- }); err != nil {
			return err
		}

		// i2c_smbus_read_byte_data(client, TMP102_ID_REG): with the
		// power on we can talk to the chip. The wrong chip fails the
		// probe, midway: the clock and the regulator are on. We just
		// return the error; devres switches them off again.
		if id := hw.chipID[dev.Name()]; id != wantChipID {
			return devErrProbe(dev, device.ErrIO, fmt.Sprintf("unexpected chip id 0x%02x", id))
		}

		// devm_request_irq(dev, 42, ...): the managed form registers
		// free_irq itself.
		hw.irqs++
		if _, err := res.AddOrReset("free_irq 42", func() { hw.irqs-- }); err != nil {
			return err
		}

		// dev_set_drvdata(dev, data): remove and the sysfs files find
		// the state through the device.
		dev.SetDrvdata(&tmp102{irq: 42})
		devInfo(dev, "tmp102_probe", "sensor ready, irq 42")
		return nil
	}

	remove := func(dev *device.Device) {
		// remove runs before devres_release_all: the resources are
		// still there. A devm-only driver has little left to do here;
		// this one only notes that.
		st := dev.Drvdata().(*tmp102)
		devInfo(dev, "tmp102_remove", fmt.Sprintf("irq %d still requested: devres frees it next", st.irq))
	}

	// static struct platform_driver tmp102_driver = { .probe, .remove };
	// run registers it (platform_driver_register).
	return platform.NewDriver("tmp102", probe, remove)
}

// devInfo is dev_info(): a line in the trace, attributed to dev.
func devInfo(dev *device.Device, fn, msg string) {
	dev.Log().Emit(trace.Event{Kind: trace.Note, Dev: dev.Path(), Func: fn, Msg: msg})
}

// devErrProbe is dev_err_probe(): log why the probe fails and return the
// error, wrapped so that errors.Is still finds the errno.
func devErrProbe(dev *device.Device, err error, msg string) error {
	devInfo(dev, "tmp102_probe", msg)
	return fmt.Errorf("tmp102: %s: %w", msg, err)
}

func run(w io.Writer) error {
	// A simulated machine: a driver core with a platform bus and a trace.
	sys := drvsim.NewSystem()
	defer sys.Close()

	hw := &board{chipID: map[string]uint8{"tmp102.0": wantChipID, "tmp102.1": 0x00}}
	drv := newDriver(hw)

	// show prints the trace recorded since the previous call.
	var seen uint64
	show := func(title string) {
		fmt.Fprintf(w, "\n== %s\n", title)
		for _, e := range sys.Log().Since(seen) {
			fmt.Fprintln(w, e)
		}
		seen = sys.Log().Seq()
	}

	// 1. driver_register: no device yet, nothing to bind.
	if err := sys.RegisterDriver(drv); err != nil {
		return err
	}
	show("driver_register: the tmp102 driver joins the platform bus")

	// 2. device_register: device_add finds the driver by name and probes.
	sensor := sys.NewPlatformDevice("tmp102.0")
	if err := sys.RegisterDevice(sensor); err != nil {
		return err
	}
	show("device_register tmp102.0: probe adds three devm actions, the device binds")
	fmt.Fprintf(w, "state=%s driver=%s devres=%v\n", sensor.State(), sensor.DriverName(), sensor.Devres().Names())

	// 3. echo tmp102.0 > /sys/bus/platform/drivers/tmp102/unbind
	if err := sys.Unbind(sensor); err != nil {
		return err
	}
	show("unbind: remove, then devres_release_all, newest action first")
	fmt.Fprintf(w, "state=%s devres=%v\n", sensor.State(), sensor.Devres().Names())

	// 4. A second sensor with the wrong chip: probe fails after two of
	//    its three steps. device_register itself succeeds; the device
	//    simply stays without a driver.
	bad := sys.NewPlatformDevice("tmp102.1")
	if err := sys.RegisterDevice(bad); err != nil {
		return err
	}
	show("device_register tmp102.1: probe fails midway, devres undoes what it did")
	fmt.Fprintf(w, "state=%s driver=%q devres=%v\n", bad.State(), bad.DriverName(), bad.Devres().Names())

	// 5. Bind tmp102.0 again (echo tmp102.0 > bind), then remove the
	//    device altogether: device_del unbinds it on the way out, with
	//    the same remove + devres_release_all.
	if err := sys.Bind(sensor, "tmp102"); err != nil {
		return err
	}
	seen = sys.Log().Seq() // the bind looks like step 2
	if err := sys.UnregisterDevice(sensor); err != nil {
		return err
	}
	show("bind again, then device_unregister tmp102.0: device_del releases the driver")
	if err := sys.UnregisterDevice(bad); err != nil {
		return err
	}

	// Every action ran exactly once: nothing is left switched on.
	fmt.Fprintf(w, "\nboard: clock users %d, regulator users %d, irqs requested %d\n", hw.clkUsers, hw.vddUsers, hw.irqs)
	if hw.clkUsers != 0 || hw.vddUsers != 0 || hw.irqs != 0 {
		return fmt.Errorf("platform-driver: resources leaked: %+v", *hw)
	}
	return nil
}

package main

import (
	"fmt"
	"io"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// Step 1: a platform driver. The driver core matches a platform device and
// a platform driver by name ("ec.0" is instance 0 of "ec"), calls probe
// when both are registered, whichever comes first, and remove when the
// device goes.
func step1(w io.Writer) error {
	sys := drvsim.NewSystem() // a machine: trace log, platform bus
	defer sys.Close()

	drv := platform.NewDriver("ec", ecProbe, ecRemove) // struct platform_driver
	if err := sys.RegisterDriver(drv); err != nil {    // driver_register
		return err
	}
	dev := sys.NewPlatformDevice("ec.0")            // platform_device_alloc
	if err := sys.RegisterDevice(dev); err != nil { // device_add: match, probe, bind
		return err
	}
	fmt.Fprintf(w, "%s: state=%s driver=%s\n", dev.Name(), dev.State(), dev.DriverName())

	if err := sys.UnregisterDevice(dev); err != nil { // device_del: unbind, remove
		return err
	}
	fmt.Fprintf(w, "%s: state=%s\n", dev.Name(), dev.State())
	fmt.Fprint(w, sys.Log()) // every step the core took, in order
	return nil
}

// ecProbe is the driver's probe: it gets the device, sets it up, and
// returns nil to bind (an error leaves the device unbound).
func ecProbe(dev *device.Device) error {
	devInfo(dev, "ec_probe", "hello")
	return nil
}

// ecRemove is the driver's remove: it runs at unbind, before the device
// loses its driver.
func ecRemove(dev *device.Device) {
	devInfo(dev, "ec_remove", "goodbye")
}

// devInfo is dev_info(): a line in the device's trace, between the core's
// own events.
func devInfo(dev *device.Device, fn, msg string) {
	dev.Log().Emit(trace.Event{Kind: trace.Note, Dev: dev.Path(), Func: fn, Msg: msg})
}

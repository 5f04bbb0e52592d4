package drvsim_test

import (
	"fmt"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// A platform driver whose probe registers one managed action
// (devm_add_action), and a device bound to it and then unregistered:
// device_unregister unbinds the driver (__device_release_driver), runs its
// remove (device_remove) and only then the managed actions
// (devres_release_all), last added first.
func Example() {
	sys := drvsim.NewSystem()
	defer sys.Close()

	drv := platform.NewDriver("uart",
		func(dev *device.Device) error { // uart_probe
			// clk_prepare_enable, then devm_add_action(clk_disable)
			_, err := dev.Devres().Add("clk_disable", func() {})
			return err
		},
		func(dev *device.Device) {}) // uart_remove: nothing to undo by hand
	if err := sys.RegisterDriver(drv); err != nil { // driver_register
		panic(err)
	}
	dev := sys.NewPlatformDevice("uart")            // platform_device_alloc
	if err := sys.RegisterDevice(dev); err != nil { // device_register: matches and binds
		panic(err)
	}
	fmt.Println("bound to", dev.DriverName())
	if err := sys.UnregisterDevice(dev); err != nil { // device_unregister
		panic(err)
	}

	steps := trace.Filter(sys.Events(), trace.OfKind(
		trace.DeviceAdd, trace.ProbeStart, trace.DevresAdd, trace.ProbeResult,
		trace.DeviceDel, trace.Unbind, trace.Remove, trace.DevresRelease,
		trace.DeviceRelease))
	for _, s := range trace.Shorts(steps) {
		fmt.Println(s)
	}
	// Output:
	// bound to uart
	// device_add /sys/devices/platform/uart: bus=platform
	// really_probe /sys/devices/platform/uart: bus=platform driver=uart
	// devm_add_action /sys/devices/platform/uart: clk_disable
	// call_driver_probe /sys/devices/platform/uart: driver=uart ret=0
	// driver_bound /sys/devices/platform/uart: driver=uart: bound
	// device_del /sys/devices/platform/uart
	// __device_release_driver /sys/devices/platform/uart: driver=uart
	// device_remove /sys/devices/platform/uart: driver=uart
	// devres_release_all /sys/devices/platform/uart: 1 action
	// devm_action_release /sys/devices/platform/uart: clk_disable
	// device_release /sys/devices/platform/uart
}

// A probe that needs a supplier not bound yet returns -EPROBE_DEFER: the
// device waits on the deferred-probe list, and the bind of the supplier
// triggers the deferred-probe worker, which probes it again.
func Example_deferredProbe() {
	sys := drvsim.NewSystem()
	defer sys.Close()

	clkReady := false
	sys.RegisterDriver(platform.NewDriver("codec", func(*device.Device) error {
		if !clkReady {
			return drvsim.ErrProbeDefer // devm_clk_get: supplier not there yet
		}
		return nil
	}, nil))
	sys.RegisterDriver(platform.NewDriver("clk", func(*device.Device) error {
		clkReady = true // the clock provider is registered
		return nil
	}, nil))

	codec := sys.NewPlatformDevice("codec")
	sys.RegisterDevice(codec) // probes, defers
	fmt.Println("codec deferred:", len(sys.DeferredDevices()) == 1)
	sys.RegisterDevice(sys.NewPlatformDevice("clk")) // binds, triggers deferred probe
	fmt.Println("codec bound to:", codec.DriverName())

	steps := trace.Filter(sys.Events(), trace.OfKind(trace.ProbeStart, trace.ProbeResult, trace.ProbeDefer))
	for _, s := range trace.Shorts(steps) {
		fmt.Println(s)
	}
	// Output:
	// codec deferred: true
	// codec bound to: codec
	// really_probe /sys/devices/platform/codec: bus=platform driver=codec
	// call_driver_probe /sys/devices/platform/codec: driver=codec ret=-EPROBE_DEFER: deferred
	// driver_deferred_probe_add /sys/devices/platform/codec: added to the pending list
	// really_probe /sys/devices/platform/clk: bus=platform driver=clk
	// call_driver_probe /sys/devices/platform/clk: driver=clk ret=0
	// driver_bound /sys/devices/platform/clk: driver=clk: bound
	// driver_deferred_probe_trigger: pending list moved to the active list
	// deferred_probe_work_func /sys/devices/platform/codec: retrying from the deferred list
	// really_probe /sys/devices/platform/codec: bus=platform driver=codec
	// call_driver_probe /sys/devices/platform/codec: driver=codec ret=0
	// driver_bound /sys/devices/platform/codec: driver=codec: bound
}

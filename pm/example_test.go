package pm_test

import (
	"fmt"
	"time"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/pm"
)

// A system sleep: children are suspended before their parent and resumed
// after it.
func ExampleSuspend() {
	sys := drvsim.NewSystem()
	defer sys.Close()
	var calls []string
	for _, n := range []string{"bridge", "disk"} {
		drv := platform.NewDriver(n, nil, nil)
		drv.PM = &device.PMOps{
			Suspend: func(d *device.Device) error { calls = append(calls, "suspend "+d.Name()); return nil },
			Resume:  func(d *device.Device) error { calls = append(calls, "resume "+d.Name()); return nil },
		}
		_ = sys.RegisterDriver(drv)
	}
	bridge := sys.NewPlatformDevice("bridge")
	_ = sys.RegisterDevice(bridge)
	_ = sys.RegisterDevice(sys.NewPlatformDevice("disk", device.WithParent(bridge)))

	if err := pm.Suspend(sys); err != nil {
		fmt.Println(err)
	}
	if err := pm.Resume(sys); err != nil {
		fmt.Println(err)
	}
	fmt.Println(calls)
	// Output: [suspend disk suspend bridge resume bridge resume disk]
}

// Runtime PM with autosuspend: the device suspends once the delay since
// its last use has passed on the virtual clock.
func ExampleGetSync() {
	sys := drvsim.NewSystem()
	defer sys.Close()
	drv := platform.NewDriver("sensor", func(d *device.Device) error {
		_ = pm.SetAutosuspendDelay(d, time.Second)
		_ = pm.UseAutosuspend(d)
		_ = pm.SetActive(d)
		return pm.DevmEnable(d)
	}, nil)
	drv.PM = &device.PMOps{
		RuntimeSuspend: func(*device.Device) error { return nil },
		RuntimeResume:  func(*device.Device) error { return nil },
	}
	_ = sys.RegisterDriver(drv)
	dev := sys.NewPlatformDevice("sensor")
	_ = sys.RegisterDevice(dev)

	_ = pm.GetSync(dev) // the driver is about to touch the hardware
	fmt.Println(pm.RuntimeStatus(dev), pm.UsageCount(dev))
	_ = pm.PutAutosuspend(dev) // done: suspend after the delay
	sys.Advance(time.Second)
	fmt.Println(pm.RuntimeStatus(dev), pm.UsageCount(dev))
	// Output:
	// active 1
	// suspended 0
}

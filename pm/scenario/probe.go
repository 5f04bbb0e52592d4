package scenario

import (
	"fmt"
	"strings"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/pm"
	"github.com/drvsim/drvsim/sim"
)

// The endings of the suspend-vs-probe scenario.
const (
	// ProbedThenSlept: the device was added and probed before dpm_prepare
	// blocked probing; it was suspended and resumed with the machine.
	ProbedThenSlept = "probed, then suspended and resumed with the machine"
	// ProbeHeldOff: the device was added while the machine suspended or
	// slept; its probe deferred (device_block_probing) and ran once
	// dpm_complete unblocked probing.
	ProbeHeldOff = "probe deferred while suspending, bound after resume"
	// AddedAfterSleep: the device was added once the machine had resumed.
	AddedAfterSleep = "added and probed after the sleep"
)

// SuspendVsAsyncProbe is a system sleep racing the hotplug of a device
// whose driver probes asynchronously: the "hotplug" task registers the
// device (device_add queues the probe, an async_probe task), the "sleep"
// task suspends and resumes the machine (pm.SystemSleep). dpm_prepare
// waits for probes in flight and blocks new ones, so no probe runs while
// devices are suspended: every run ends with the device bound, probed
// once, its suspend and resume callbacks run both or neither.
func SuspendVsAsyncProbe(o *drvsim.Runs) func(*sim.Sim) {
	return func(s *sim.Sim) {
		sys := o.System(s)
		probes, suspends, resumes := 0, 0, 0
		probedAsleep := false
		drv := platform.NewDriver("wifi", func(*device.Device) error {
			probes++
			if pm.Asleep(sys) {
				probedAsleep = true
			}
			return nil
		}, nil)
		drv.ProbeType = driver.ProbePreferAsynchronous
		drv.PM = &device.PMOps{
			Suspend: func(*device.Device) error { suspends++; return nil },
			Resume:  func(*device.Device) error { resumes++; return nil },
		}
		if err := sys.RegisterDriver(drv); err != nil {
			panic(err)
		}
		dev := sys.NewPlatformDevice("wifi")
		s.Go("hotplug", func() {
			if err := sys.RegisterDevice(dev); err != nil {
				panic(err)
			}
		})
		s.Go("sleep", func() {
			if err := pm.SystemSleep(sys); err != nil {
				panic(err)
			}
		})
		s.AddLeakCheck("wifi after the sleep", func() []string {
			var bad []string
			if dev.State() != device.StateBound || probes != 1 {
				bad = append(bad, fmt.Sprintf("device %s after %d probes", dev.State(), probes))
			}
			if probedAsleep {
				bad = append(bad, "probed while the machine was asleep")
			}
			if suspends != resumes {
				bad = append(bad, fmt.Sprintf("%d suspends, %d resumes", suspends, resumes))
			}
			deferred := false
			for _, e := range s.Log().Events() {
				if e.Func == "really_probe" && strings.Contains(e.Msg, "probing is blocked") {
					deferred = true
				}
			}
			ending := AddedAfterSleep
			switch {
			case suspends == 1 && !deferred:
				ending = ProbedThenSlept
			case deferred && suspends == 0:
				ending = ProbeHeldOff
			case deferred || suspends > 1:
				bad = append(bad, fmt.Sprintf("deferred=%v with %d suspends", deferred, suspends))
			}
			return o.End(ending, bad)
		})
	}
}

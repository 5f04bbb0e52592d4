package scenario

import (
	"fmt"
	"time"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/pm"
	"github.com/drvsim/drvsim/sim"
)

// The endings of the ioctl scenario.
const (
	// IoctlOnActive: the ioctl found the device active (get_sync returned
	// 1) and held it while it read the registers.
	IoctlOnActive = "ioctl on an active device"
	// IoctlResumed: the device had autosuspended (or was suspending); the
	// ioctl's pm_runtime_get_sync resumed it first.
	IoctlResumed = "ioctl resumed the device"
)

// sensor is a platform driver whose registers are mapped only while the
// device is powered: runtime_resume maps them (a fresh allocation),
// runtime_suspend unmaps them (frees it), as a driver that gates its
// clock and power domain does. Its ioctl reads a register, holding the
// device with pm_runtime_get_sync ... pm_runtime_put_autosuspend, or, in
// the broken driver, without.
type sensor struct {
	hold     bool // the ioctl holds the device (the correct driver)
	regs     *env.Object
	resumes  int
	suspends int
}

const sensorDelay = 50 * time.Millisecond

func (s *sensor) driver(sys *drvsim.System) *device.PMOps {
	return &device.PMOps{
		RuntimeSuspend: func(*device.Device) error {
			s.suspends++
			s.regs.Free() // clk_disable_unprepare, the registers unmapped
			return nil
		},
		RuntimeResume: func(*device.Device) error {
			s.resumes++
			s.regs = sys.Memory().Alloc("sensor registers") // powered and mapped again
			return nil
		},
	}
}

// ioctl is the driver's unlocked_ioctl: read the status register.
func (s *sensor) ioctl(dev *device.Device) error {
	if s.hold {
		if err := pm.GetSync(dev); err != nil {
			_ = pm.PutNoidle(dev)
			return err
		}
		defer func() { _ = pm.PutAutosuspend(dev) }()
	}
	s.regs.Access("sensor_ioctl: read status register")
	return nil
}

// IoctlVsRuntimeSuspend is a process's ioctl racing the device's
// autosuspend: the driver (hold) or the broken one (not hold) is bound,
// runtime PM enabled with a 50 ms autosuspend delay and the device idle,
// so pm_wq's idle check arms the suspend timer; the "ioctl" task reads a
// register just as the delay ends (it sleeps 50 ms first, so that its
// read and the timer are due at the same virtual time). With the hold, the runtime callbacks never overlap
// the read: every run ends with the device suspended again, the read done
// on an active device. Without it, a read after runtime_suspend touches
// unmapped registers: a use-after-free.
func IoctlVsRuntimeSuspend(hold bool) func(o *drvsim.Runs) func(*sim.Sim) {
	return func(o *drvsim.Runs) func(*sim.Sim) {
		return func(s *sim.Sim) {
			sys := o.System(s)
			sn := &sensor{hold: hold}
			drv := platform.NewDriver("sensor", func(dev *device.Device) error {
				sn.regs = sys.Memory().Alloc("sensor registers")
				if err := pm.SetAutosuspendDelay(dev, sensorDelay); err != nil {
					return err
				}
				if err := pm.UseAutosuspend(dev); err != nil {
					return err
				}
				if err := pm.SetActive(dev); err != nil {
					return err
				}
				return pm.DevmEnable(dev)
			}, nil)
			drv.PM = sn.driver(sys)
			if err := sys.RegisterDriver(drv); err != nil {
				panic(err)
			}
			dev := sys.NewPlatformDevice("sensor")
			if err := sys.RegisterDevice(dev); err != nil { // probe; pm_request_idle queues the idle check
				panic(err)
			}
			var ioErr error
			s.Go("ioctl", func() {
				sys.Env().Sleep(sensorDelay) // the process comes back as the delay ends
				ioErr = sn.ioctl(dev)
			})
			s.AddLeakCheck("sensor after the ioctl", func() []string {
				var bad []string
				if ioErr != nil {
					bad = append(bad, "ioctl: "+ioErr.Error())
				}
				st, _ := pm.StateOf(dev)
				if st.Usage != 0 || st.Status != pm.Suspended {
					bad = append(bad, "runtime PM at the end: "+st.String())
				}
				if sn.suspends != sn.resumes+1 {
					bad = append(bad, fmt.Sprintf("%d runtime suspends, %d resumes", sn.suspends, sn.resumes))
				}
				ending := IoctlOnActive
				if sn.resumes > 0 {
					ending = IoctlResumed
				}
				return o.End(ending, bad)
			})
		}
	}
}

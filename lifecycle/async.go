package lifecycle

import (
	"fmt"
	"strings"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// The endings of the asynchronous-probe scenarios.
const (
	// ProbedThenDetached: the probe bound the device, then
	// driver_unregister's driver_detach unbound it.
	ProbedThenDetached Ending = "probed, then detached by driver_unregister"
	// NotProbedDriverGone: the probe never ran the driver's probe:
	// __device_attach_async_helper walked the bus's drivers after
	// driver_unregister had taken the driver off the bus. (The helper of
	// driver_attach, __driver_attach_async_helper, always probes.)
	NotProbedDriverGone Ending = "not probed: driver gone"
	// ProbedThenDeleted: the probe bound the device, then device_del
	// unbound it.
	ProbedThenDeleted Ending = "probed, then unbound by device_del"
	// SkippedDeviceDead: device_del ran first; __device_attach_async_helper
	// found the device dead and skipped it.
	SkippedDeviceDead Ending = "skipped: device dead"
)

// AsyncProbeVsUnregister is an asynchronous probe racing rmmod. The
// driver (PROBE_PREFER_ASYNCHRONOUS) is registered and the device added
// during setup, so device_add queues the probe (async_schedule_dev: an
// async_probe task running __device_attach_async_helper); the rmmod task
// unregisters the driver (driver_unregister -> bus_remove_driver ->
// driver_detach, which first waits in async_synchronize_full). A probe
// already running when rmmod starts must not leave the device bound to a
// driver that is gone.
//
// Every run must end with the device unbound, still registered, holding
// only device_initialize's reference, the driver's probe undone (remove
// called, devres released) and no asynchronous probe run after
// driver_unregister returned: ProbedThenDetached or NotProbedDriverGone
// (the helper walks the bus's drivers, and the driver may be gone from
// the bus already).
func AsyncProbeVsUnregister(o *Outcomes) func(*sim.Sim) {
	return asyncVsUnregister(o, false)
}

// AsyncAttachVsUnregister is AsyncProbeVsUnregister with the device added
// first: driver_register queues the probe (driver_attach: an async_probe
// task running __driver_attach_async_helper, which probes the driver
// queued on the device, dev->p->async_driver, on the bus or not). The
// same checks; the only ending is ProbedThenDetached: driver_detach waits
// for the queued probe (async_synchronize_full), which binds, and then
// unbinds the device.
func AsyncAttachVsUnregister(o *Outcomes) func(*sim.Sim) {
	return asyncVsUnregister(o, true)
}

func asyncVsUnregister(o *Outcomes, deviceFirst bool) func(*sim.Sim) {
	return func(s *sim.Sim) {
		sys := o.System(s)
		w := &wifi{}
		drv := w.driver()
		var dev *device.Device
		if deviceFirst {
			dev = addDevice(sys)
		}
		if err := sys.RegisterDriver(drv); err != nil { // with the device there, queues async_probe
			panic(err)
		}
		if !deviceFirst {
			dev = addDevice(sys)
		}
		r := &asyncRun{sys: sys, w: w, drv: drv, dev: dev}
		s.Go("rmmod", func() {
			if err := sys.UnregisterDriver(drv); err != nil {
				panic(err)
			}
			r.returned = s.Log().Seq()
		})
		s.AddLeakCheck("wifi after rmmod", func() []string { // checked when the run ends
			defer o.Release(sys)
			return o.check(r.afterUnregister(s.Log().Events()))
		})
	}
}

// AsyncProbeVsRemoval is an asynchronous probe racing the device's
// removal. The driver is registered and the device added during setup, so
// device_add queues the probe (an async_probe task running
// __device_attach_async_helper); the unplug task unregisters the device
// (device_unregister -> device_del: kill_device, bus_remove_device, which
// unbinds a bound driver).
//
// Every run must end with the device unbound, removed and released (the
// last put_device may be the async_probe task's), its devres empty and
// the driver's probe undone: ProbedThenDeleted, or SkippedDeviceDead when
// the helper finds the device dead ("device removed before the
// asynchronous probe ran").
func AsyncProbeVsRemoval(o *Outcomes) func(*sim.Sim) {
	return func(s *sim.Sim) {
		sys := o.System(s)
		w := &wifi{}
		if err := sys.RegisterDriver(w.driver()); err != nil {
			panic(err)
		}
		dev := addDevice(sys)
		s.Go("unplug", func() {
			if err := sys.UnregisterDevice(dev); err != nil {
				panic(err)
			}
		})
		r := &asyncRun{sys: sys, w: w, dev: dev}
		s.AddLeakCheck("wifi after unplug", func() []string {
			defer o.Release(sys)
			return o.check(r.afterRemoval(s.Log().Events()))
		})
	}
}

// addDevice registers the platform device "wifi" (device_register); with
// the driver there, device_add queues its asynchronous probe.
func addDevice(sys *drvsim.System) *device.Device {
	dev := sys.NewPlatformDevice("wifi")
	if err := sys.RegisterDevice(dev); err != nil { // with the driver there, queues async_probe
		panic(err)
	}
	return dev
}

// wifi is an asynchronous platform driver whose probe takes one devm
// action; it counts probes, removes and releases so that a run can check
// that every probe was undone.
type wifi struct {
	probes, removes, released int
}

func (w *wifi) driver() *driver.Driver {
	drv := platform.NewDriver("wifi", func(dev *device.Device) error {
		w.probes++
		_, err := dev.Devres().AddOrReset("wifi_power_off", func() { w.released++ })
		return err
	}, func(*device.Device) { w.removes++ })
	drv.ProbeType = driver.ProbePreferAsynchronous // PROBE_PREFER_ASYNCHRONOUS
	return drv
}

// unbalanced describes what is wrong with the driver's bookkeeping.
func (w *wifi) unbalanced() []string {
	if w.probes != w.removes || w.probes != w.released {
		return []string{fmt.Sprintf("wifi: %d probes, %d removes, %d devres releases", w.probes, w.removes, w.released)}
	}
	return nil
}

// asyncRun is what an end-of-run check looks at.
type asyncRun struct {
	sys *drvsim.System
	w   *wifi
	drv *driver.Driver // the unregistered driver (rmmod scenarios)
	dev *device.Device
	// returned is the trace's last sequence number when driver_unregister
	// returned (rmmod scenarios).
	returned uint64
}

// afterUnregister is the ending of a run of the rmmod scenarios, given its
// trace, and what is wrong with it.
func (r *asyncRun) afterUnregister(events []trace.Event) (Ending, []string) {
	bad := r.w.unbalanced()
	for _, e := range events {
		if e.Seq > r.returned && (e.Func == "__device_attach_async_helper" || e.Func == "__driver_attach_async_helper" || e.Func == "really_probe") {
			bad = append(bad, "an asynchronous probe ran after driver_unregister returned: "+e.Short())
		}
	}
	if r.dev.Driver() != nil {
		bad = append(bad, "device still bound to "+r.dev.DriverName()+" after driver_unregister")
	}
	if r.dev.State() != device.StateAdded {
		bad = append(bad, "device state "+r.dev.State().String())
	}
	if r.dev.Refs() != 1 {
		bad = append(bad, fmt.Sprintf("device has %d references, want 1 (device_initialize's)", r.dev.Refs()))
	}
	if len(r.sys.BoundDevices(r.drv)) != 0 {
		bad = append(bad, "driver still lists bound devices")
	}
	switch r.w.probes {
	case 1:
		return ProbedThenDetached, bad
	case 0:
		return NotProbedDriverGone, bad
	}
	return "", append(bad, fmt.Sprintf("unexpected outcome: %d probes", r.w.probes))
}

// afterRemoval is the ending of a run of AsyncProbeVsRemoval, given its
// trace, and what is wrong with it.
func (r *asyncRun) afterRemoval(events []trace.Event) (Ending, []string) {
	bad := r.w.unbalanced()
	if r.dev.Driver() != nil {
		bad = append(bad, "device still bound to "+r.dev.DriverName()+" after device_del")
	}
	if r.dev.State() != device.StateRemoved {
		bad = append(bad, "device state "+r.dev.State().String())
	}
	if r.dev.Refs() != 0 || !r.dev.Released() {
		bad = append(bad, fmt.Sprintf("device has %d references, released=%v", r.dev.Refs(), r.dev.Released()))
	}
	if !r.dev.Devres().Empty() {
		bad = append(bad, "devres left: "+strings.Join(r.dev.Devres().Names(), ", "))
	}
	skipped := false
	for _, e := range events {
		if e.Func == "__device_attach_async_helper" && strings.Contains(e.Msg, "device removed before the asynchronous probe ran") {
			skipped = true
		}
	}
	switch {
	case r.w.probes == 1 && !skipped:
		return ProbedThenDeleted, bad
	case r.w.probes == 0 && skipped:
		return SkippedDeviceDead, bad
	}
	return "", append(bad, fmt.Sprintf("unexpected outcome: %d probes, skipped=%v", r.w.probes, skipped))
}

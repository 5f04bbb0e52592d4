package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/pm"
	"github.com/drvsim/drvsim/trace"
)

// The power-management demos run on the plain machine, like the platform
// demos: every step is a call, its events the ones recorded meanwhile. The
// drivers' callbacks leave a note named after what a real driver would do.

// pmDriver registers a platform driver named name whose dev_pm_ops leave
// notes in the trace (what each callback would do to the hardware).
func (p *platformSystem) pmDriver(name string, does map[string]string) error {
	cb := func(what string) func(*device.Device) error {
		return func(d *device.Device) error {
			p.note(d, "demo", name+"_"+what+": "+does[what])
			return nil
		}
	}
	drv := platform.NewDriver(name, nil, nil)
	drv.PM = &device.PMOps{
		Suspend: cb("suspend"), Resume: cb("resume"),
		SuspendLate: cb("suspend_late"), ResumeEarly: cb("resume_early"),
	}
	return p.RegisterDriver(drv)
}

// demoSuspendResume: a system sleep in the kernel's order, probes held off
// while the machine sleeps, and a failing suspend callback that unwinds.
func demoSuspendResume(s *story) error {
	sys := newPlatformSystem()
	defer sys.Close()
	does := map[string]string{
		"suspend": "save the registers, stop the DMA", "resume": "restore the registers, restart the DMA",
		"suspend_late": "gate the clock", "resume_early": "ungate the clock",
	}
	for _, n := range []string{"i2c", "codec", "touch", "panel", "pwm"} {
		if err := sys.pmDriver(n, does); err != nil {
			return err
		}
	}
	s.step("the machine: an i2c controller with two devices on it (codec, touch), a panel, and a pwm the panel consumes (device_link_add)")
	i2c := sys.NewPlatformDevice("i2c")
	devs := []*device.Device{i2c,
		sys.NewPlatformDevice("codec", device.WithParent(i2c)),
		sys.NewPlatformDevice("touch", device.WithParent(i2c)),
		sys.NewPlatformDevice("panel"), sys.NewPlatformDevice("pwm")}
	for _, d := range devs {
		if err := sys.RegisterDevice(d); err != nil {
			return err
		}
	}
	if _, err := sys.AddLink(devs[3], devs[4], 0); err != nil {
		return err
	}
	s.events(trace.Filter(sys.since(), func(e trace.Event) bool {
		return e.Func == "device_add" || e.Func == "device_link_add" || e.Func == "driver_bound"
	}))
	s.notes("dpm_list (the PM core's order): "+deviceNames(pm.Devices(sys)),
		"registration order, the link's consumer (panel) moved after its supplier (pwm)")

	if err := pm.Suspend(sys); err != nil {
		return err
	}
	s.phases(scenario.SplitPhases(sys.since(), []scenario.Marker{
		{Heading: "echo mem > /sys/power/state: probes are blocked, dpm_prepare walks the list from its head (parents first)",
			Match: funcIs("pm_suspend")},
		{Heading: "dpm_suspend walks it from its tail: children before their parent, the consumer before its supplier",
			Match: funcIs("dpm_suspend")},
		{Heading: "dpm_suspend_late, in the same order, with runtime PM disabled for each device first; then noirq",
			Match: funcIs("dpm_suspend_late")},
		{Heading: "every device is suspended: the machine sleeps",
			Match: funcIs("suspend_enter")},
	}))

	s.step("a device is hot-added while the machine sleeps: its probe defers (device_block_probing)")
	if err := sys.pmDriver("sensor", does); err != nil {
		return err
	}
	sensor := sys.NewPlatformDevice("sensor")
	if err := sys.RegisterDevice(sensor); err != nil {
		return err
	}
	s.events(trace.Filter(sys.since(), func(e trace.Event) bool {
		return e.Kind != trace.Notify && e.Kind != trace.Uevent && e.Kind != trace.DeviceInit
	}))

	if err := pm.Resume(sys); err != nil {
		return err
	}
	s.phases(scenario.SplitPhases(sys.since(), []scenario.Marker{
		{Heading: "a wakeup: dpm_resume_noirq and dpm_resume_early walk the list from its head (parents first)",
			Match: funcIs("suspend_enter")},
		{Heading: "dpm_resume, from the head again: the supplier before its consumer",
			Match: funcIs("dpm_resume")},
		{Heading: "dpm_complete from the tail; probing is unblocked and the deferred sensor probes",
			Match: funcIs("dpm_complete")},
	}))
	if sensor.State() != device.StateBound {
		return fmt.Errorf("sensor %s after the resume", sensor.State())
	}

	tdrv := sys.FindDriver(platform.Name, "touch")
	tdrv.PM.Suspend = func(d *device.Device) error {
		sys.note(d, "demo", "touch_suspend: save the registers: the controller does not answer, -EIO")
		return device.ErrIO
	}
	err := pm.Suspend(sys)
	if !errors.Is(err, device.ErrIO) {
		return fmt.Errorf("a failing suspend gave %v", err)
	}
	s.phases(scenario.SplitPhases(sys.since(), []scenario.Marker{
		{Heading: "another sleep; this time touch's suspend fails",
			Match: funcIs("pm_suspend")},
		{Heading: "the transition unwinds: the devices already suspended resume, in order, and every prepared device completes",
			Match: func(e trace.Event) bool { return e.Func == "dpm_resume" }},
	}))
	s.notes(fmt.Sprintf("pm_suspend: %v", err), sys.tree())
	return nil
}

// demoRuntimePM: runtime PM of a sensor behind a hub: autosuspend after
// the delay on the virtual clock, get_sync resuming the parent first, the
// kernel's warning for an unbalanced put, the driver core around unbind.
func demoRuntimePM(s *story) error {
	sys := newPlatformSystem()
	defer sys.Close()
	cb := func(what string) func(*device.Device) error {
		return func(d *device.Device) error {
			sys.note(d, "demo", d.Name()+"_"+what+": "+map[string]string{
				"runtime_suspend": "clock off, power domain off", "runtime_resume": "power domain on, clock on"}[what])
			return nil
		}
	}
	probe := func(delay time.Duration) func(*device.Device) error {
		return func(d *device.Device) error {
			if delay > 0 {
				if err := pm.SetAutosuspendDelay(d, delay); err != nil {
					return err
				}
				if err := pm.UseAutosuspend(d); err != nil {
					return err
				}
			}
			if err := pm.SetActive(d); err != nil {
				return err
			}
			return pm.DevmEnable(d)
		}
	}
	for _, n := range []struct {
		name  string
		delay time.Duration
	}{{"hub", 0}, {"sensor", 2 * time.Second}} {
		drv := platform.NewDriver(n.name, probe(n.delay), nil)
		drv.PM = &device.PMOps{RuntimeSuspend: cb("runtime_suspend"), RuntimeResume: cb("runtime_resume")}
		if err := sys.RegisterDriver(drv); err != nil {
			return err
		}
	}
	sys.since()

	hub := sys.NewPlatformDevice("hub")
	if err := sys.RegisterDevice(hub); err != nil {
		return err
	}
	sensor := sys.NewPlatformDevice("sensor", device.WithParent(hub))
	if err := sys.RegisterDevice(sensor); err != nil {
		return err
	}
	s.phases(scenario.SplitPhases(pmOnly(sys.since()), []scenario.Marker{
		{Heading: "the hub binds: its probe declares it active and enables runtime PM (devm_pm_runtime_enable); nothing holds it, the idle check after probe suspends it",
			Match: funcIs("pm_runtime_enable")},
		{Heading: "the sensor below it binds: the core resumes the parent for the probe; the sensor uses autosuspend (2 s), so its idle check arms the suspend timer",
			Match: func(e trace.Event) bool { return e.Func == "pm_runtime_get_sync" }},
	}))
	s.notes(sys.tree())

	s.step("2 s pass on the virtual clock: the timer fires, pm_wq suspends the sensor, then its parent")
	sys.Advance(2 * time.Second)
	s.events(pmOnly(sys.since()))

	s.step("an ioctl holds the sensor: pm_runtime_get_sync resumes the parent first, then the sensor")
	if err := pm.GetSync(sensor); err != nil {
		return err
	}
	s.events(pmOnly(sys.since()))

	s.step("the ioctl is done: pm_runtime_put_autosuspend marks it busy and arms the timer; 2 s later both suspend again")
	if err := pm.PutAutosuspend(sensor); err != nil {
		return err
	}
	sys.Advance(2 * time.Second)
	s.events(pmOnly(sys.since()))

	s.step("a driver bug: one put too many. The kernel warns \"Runtime PM usage count underflow!\"")
	err := pm.Put(sensor)
	s.events(pmOnly(sys.since()))
	s.notes(fmt.Sprintf("pm_runtime_put: %v", err))

	s.step("echo sensor > unbind: the core resumes the sensor for its unbind and puts it before ->remove (the autosuspend delay keeps it up); devres's pm_runtime_disable_action drops autosuspend, which suspends it, and disables runtime PM")
	if err := sys.Unbind(sensor); err != nil {
		return err
	}
	s.events(trace.Filter(sys.since(), func(e trace.Event) bool {
		return e.Kind == pm.KindRuntime || e.Kind == trace.Note || e.Func == "device_remove" || e.Func == "devm_action_release"
	}))
	st, _ := pm.StateOf(sensor)
	s.notes("sensor: "+st.String(), sys.tree())
	return nil
}

// pmOnly keeps the runtime PM events, the drivers' notes and warnings.
func pmOnly(evs []trace.Event) []trace.Event {
	return trace.Filter(evs, func(e trace.Event) bool {
		return e.Kind == pm.KindRuntime || e.Kind == trace.Note || e.Kind == trace.Warn || e.Func == "call_timer_fn"
	})
}

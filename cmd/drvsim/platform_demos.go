package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/trace"
)

// The platform demos run on the real driver core (drvsim.System, its
// platform bus). Each step of a story is a core call; its events are the
// ones the log recorded during the call (Log().Since), cut into phases at
// the kernel functions that start them where one call tells several
// things. The drivers' own steps are trace notes named after the kernel
// helpers they model.

// platformSystem is a drvsim.System with the helpers the stories use.
type platformSystem struct {
	*drvsim.System
	seq uint64 // the log position of the last call's end
}

// newPlatformSystem returns a fresh System; its stories start after the
// platform bus's registration.
func newPlatformSystem() *platformSystem {
	sys := drvsim.NewSystem()
	return &platformSystem{System: sys, seq: sys.Log().Seq()}
}

// since returns the events recorded since the last call of since.
func (p *platformSystem) since() []trace.Event {
	evs := p.Log().Since(p.seq)
	p.seq = p.Log().Seq()
	return evs
}

// note records a driver's own step: fn is the kernel helper it models.
func (p *platformSystem) note(dev *device.Device, fn, msg string) {
	p.Log().Emit(trace.Event{Kind: trace.Note, Dev: dev.Path(), Func: fn, Msg: msg})
}

// tree returns the system's device tree without its first line.
func (p *platformSystem) tree() string {
	t := strings.TrimSuffix(p.Tree(), "\n")
	if _, rest, ok := strings.Cut(t, "\n"); ok {
		return "/sys/devices:\n" + rest
	}
	return t
}

// demoProbeFailure: a probe acquires three devm resources and fails;
// really_probe's error path releases them newest first and leaves the
// device unbound.
func demoProbeFailure(s *story) error {
	sys := newPlatformSystem()
	defer sys.Close()
	var released []string
	resources := []struct{ get, what, release string }{
		{"devm_clk_get_enabled", `clock "core" prepared and enabled`, "clk_disable_unprepare"},
		{"devm_regulator_get_enable", `regulator "vdd" enabled`, "regulator_disable"},
		{"devm_request_irq", "irq 42 requested", "free_irq"},
	}
	probe := func(dev *device.Device) error {
		for _, r := range resources {
			sys.note(dev, r.get, r.what)
			if _, err := dev.Devres().Add(r.release, func() { released = append(released, r.release) }); err != nil {
				return err
			}
		}
		sys.note(dev, "sensor_probe", "chip id 0x00, expected 0x5a: -EIO")
		return fmt.Errorf("sensor: chip id mismatch: %w", device.ErrIO)
	}
	drv := platform.NewDriver("sensor", probe, nil)

	s.step("the sensor driver registers (driver_register); no device matches it yet")
	if err := sys.RegisterDriver(drv); err != nil {
		return err
	}
	s.events(sys.since())

	dev := sys.NewPlatformDevice("sensor")
	if err := sys.RegisterDevice(dev); err != nil {
		return err
	}
	s.phases(scenario.SplitPhases(sys.since(), []scenario.Marker{
		{Heading: "the sensor device is added (device_add): it joins the platform bus and matches the driver",
			Match: funcIs("device_initialize")},
		{Heading: "really_probe calls the probe: a clock, a regulator and an irq, each with a devm action to undo it",
			Match: funcIs("really_probe")},
		{Heading: "the chip id is wrong, the probe fails with -EIO: DRIVER_NOT_BOUND, then devres_release_all, newest first",
			Match: funcIs("call_driver_probe")},
	}))

	s.step("the device is left on the bus, unbound, its devres list empty")
	want := []string{"free_irq", "regulator_disable", "clk_disable_unprepare"}
	if dev.State() != device.StateAdded || dev.Driver() != nil || !dev.Devres().Empty() || fmt.Sprint(released) != fmt.Sprint(want) {
		return fmt.Errorf("after the failed probe: state %s, driver %q, released %v", dev.State(), dev.DriverName(), released)
	}
	s.notes(fmt.Sprintf("released: %s", strings.Join(released, ", ")), sys.tree())
	return nil
}

// demoDeferredProbe: a consumer defers until its supplier binds, the
// deferred list is retried; at the deferred probe timeout a device with an
// optional dependency probes without it, one with a required dependency
// stays deferred.
func demoDeferredProbe(s *story) error {
	sys := newPlatformSystem()
	defer sys.Close()
	codecProbe := func(dev *device.Device) error {
		clk := sys.FindDevice(platform.Name, "clk")
		if clk == nil || clk.State() != device.StateBound {
			sys.note(dev, "devm_clk_get", `clock "mclk" not provided yet: -EPROBE_DEFER`)
			return device.ErrProbeDefer
		}
		sys.note(dev, "devm_clk_get", `clock "mclk" found`)
		return nil
	}

	s.step("the codec driver and device register; the codec needs a clock that is not there: -EPROBE_DEFER")
	if err := sys.RegisterDriver(platform.NewDriver("codec", codecProbe, nil)); err != nil {
		return err
	}
	codec := sys.NewPlatformDevice("codec")
	if err := sys.RegisterDevice(codec); err != nil {
		return err
	}
	s.events(sys.since())
	s.notes(fmt.Sprintf("deferred devices: %s", deviceNames(sys.DeferredDevices())))

	if err := sys.RegisterDriver(platform.NewDriver("clk", nil, nil)); err != nil {
		return err
	}
	clk := sys.NewPlatformDevice("clk")
	if err := sys.RegisterDevice(clk); err != nil {
		return err
	}
	s.phases(scenario.SplitPhases(sys.since(), []scenario.Marker{
		{Heading: "the clock driver and device arrive: clk binds, and driver_bound triggers the deferred list",
			Match: funcIs("driver_register")},
		{Heading: "deferred_probe_work_func retries the codec: the clock is there now, the codec binds",
			Match: funcIs("deferred_probe_work_func")},
	}))
	if codec.State() != device.StateBound {
		return fmt.Errorf("codec: state %s after its supplier bound", codec.State())
	}

	dspProbe := func(dev *device.Device) error {
		sys.note(dev, "devm_clk_get", `clock "dspclk" not provided yet: -EPROBE_DEFER`)
		return device.ErrProbeDefer
	}
	gpuProbe := func(dev *device.Device) error {
		if err := sys.DeferredProbeCheckState(dev); !errors.Is(err, device.ErrTimedOut) {
			sys.note(dev, "dev_pm_domain_attach", "power domain not there yet: -EPROBE_DEFER")
			return err
		}
		sys.note(dev, "dev_pm_domain_attach", "no power domain: probing without it")
		return nil
	}
	s.step("a dsp needs a clock and a gpu would like a power domain; neither ever appears, both defer")
	for _, d := range []struct {
		name  string
		probe func(*device.Device) error
	}{{"dsp", dspProbe}, {"gpu", gpuProbe}} {
		if err := sys.RegisterDriver(platform.NewDriver(d.name, d.probe, nil)); err != nil {
			return err
		}
		if err := sys.RegisterDevice(sys.NewPlatformDevice(d.name)); err != nil {
			return err
		}
	}
	s.events(sys.since())
	s.notes(fmt.Sprintf("deferred devices: %s", deviceNames(sys.DeferredDevices())))

	s.step("10 s later (simulated), the deferred probe timeout: the gpu probes without its optional power domain, the dsp stays deferred")
	sys.Advance(10 * time.Second)
	s.events(sys.since())
	dsp, gpu := sys.FindDevice(platform.Name, "dsp"), sys.FindDevice(platform.Name, "gpu")
	if !sys.DeferredTimedOut() || gpu.State() != device.StateBound || dsp.State() != device.StateAdded ||
		deviceNames(sys.DeferredDevices()) != "[dsp]" {
		return fmt.Errorf("after the timeout: gpu %s, dsp %s, deferred %s", gpu.State(), dsp.State(), deviceNames(sys.DeferredDevices()))
	}
	s.notes(fmt.Sprintf("deferred devices: %s", deviceNames(sys.DeferredDevices())), sys.tree())
	return nil
}

// demoDeviceLinks: a managed device link makes the consumer wait for its
// supplier, and unbinding the supplier unbinds the consumer first.
func demoDeviceLinks(s *story) error {
	sys := newPlatformSystem()
	defer sys.Close()
	var removed []string
	remove := func(d *device.Device) {
		sys.note(d, d.Name()+"_remove", "driver remove runs")
		removed = append(removed, d.Name())
	}
	probe := func(d *device.Device) error {
		sys.note(d, d.Name()+"_probe", "driver probe runs")
		return nil
	}

	s.step("two devices, no drivers: pwm (the supplier) and panel (its consumer)")
	pwm := sys.NewPlatformDevice("pwm")
	panel := sys.NewPlatformDevice("panel")
	for _, d := range []*device.Device{pwm, panel} {
		if err := sys.RegisterDevice(d); err != nil {
			return err
		}
	}
	s.events(sys.since())

	s.step("device_link_add: panel consumes pwm (DL_FLAG_AUTOPROBE_CONSUMER)")
	if _, err := sys.AddLink(panel, pwm, device.LinkAutoprobeConsumer); err != nil {
		return err
	}
	s.events(sys.since())

	s.step("the panel driver registers: device_links_check_suppliers defers the panel, pwm is not bound")
	if err := sys.RegisterDriver(platform.NewDriver("panel", probe, remove)); err != nil {
		return err
	}
	s.events(sys.since())

	if err := sys.RegisterDriver(platform.NewDriver("pwm", probe, remove)); err != nil {
		return err
	}
	s.phases(scenario.SplitPhases(sys.since(), []scenario.Marker{
		{Heading: "the pwm driver registers: pwm binds, driver_bound triggers the deferred list",
			Match: funcIs("driver_register")},
		{Heading: "the panel is retried: its supplier is bound now, the panel binds",
			Match: funcIs("deferred_probe_work_func")},
	}))
	if panel.State() != device.StateBound || pwm.State() != device.StateBound {
		return fmt.Errorf("pwm %s, panel %s after the pwm driver registered", pwm.State(), panel.State())
	}

	s.step("echo pwm > unbind: the core unbinds the consumer panel first (device_links_unbind_consumers), then pwm")
	if err := sys.Unbind(pwm); err != nil {
		return err
	}
	s.events(sys.since())
	if fmt.Sprint(removed) != "[panel pwm]" {
		return fmt.Errorf("remove order %v, want panel then pwm", removed)
	}

	s.step("echo panel > bind: refused while its supplier is unbound")
	err := sys.Bind(panel, "panel")
	if !errors.Is(err, device.ErrProbeDefer) {
		return fmt.Errorf("bind panel with pwm unbound: %v, want -EPROBE_DEFER", err)
	}
	s.events(sys.since())
	s.notes(fmt.Sprintf("bind: %v", err), sys.tree())
	return nil
}

// deviceNames renders a device list as "[a b]".
func deviceNames(devs []*device.Device) string {
	names := make([]string, len(devs))
	for i, d := range devs {
		names[i] = d.Name()
	}
	return "[" + strings.Join(names, " ") + "]"
}

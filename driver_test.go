package drvsim_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/trace"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func newSystem(t *testing.T) *drvsim.System {
	t.Helper()
	sys := drvsim.NewSystem()
	t.Cleanup(sys.Close)
	return sys
}

// since returns the short form of the events recorded after seq.
func since(sys *drvsim.System, seq uint64) []string {
	return trace.Shorts(sys.Log().Since(seq))
}

// bindSteps keeps the events of a bind, from really_probe to the bind uevent.
func bindSteps(sys *drvsim.System) []string {
	var out []string
	for _, e := range sys.Events() {
		switch e.Func {
		case "really_probe", "call_driver_probe", "driver_bound", "kobject_uevent", "bus_notify":
			if e.Dev != "" && e.Dev[:12] == "/sys/devices" {
				out = append(out, e.Short())
			}
		}
	}
	return out
}

// Scenario 1: device then driver, and driver then device, bind the same way.
func TestScenario1_OrderOfRegistrationGivesSameBind(t *testing.T) {
	run := func(deviceFirst bool) (*drvsim.System, *device.Device) {
		sys := newSystem(t)
		probes := 0
		drv := platform.NewDriver("uart", func(*device.Device) error { probes++; return nil }, nil)
		dev := sys.NewPlatformDevice("uart")
		if deviceFirst {
			require.NoError(t, sys.RegisterDevice(dev))
			require.Equal(t, device.StateAdded, dev.State())
			require.NoError(t, sys.RegisterDriver(drv))
		} else {
			require.NoError(t, sys.RegisterDriver(drv))
			require.NoError(t, sys.RegisterDevice(dev))
		}
		require.Equal(t, 1, probes)
		require.Equal(t, device.StateBound, dev.State())
		require.Equal(t, "uart", dev.DriverName())
		require.Equal(t, []*device.Device{dev}, sys.BoundDevices(drv))
		return sys, dev
	}
	a, _ := run(true)
	b, _ := run(false)
	want := []string{
		"bus_notify /sys/devices/platform/uart: BUS_NOTIFY_ADD_DEVICE",
		"kobject_uevent /sys/devices/platform/uart: add MODALIAS=platform:uart",
		"really_probe /sys/devices/platform/uart: bus=platform driver=uart",
		"bus_notify /sys/devices/platform/uart: BUS_NOTIFY_BIND_DRIVER",
		"call_driver_probe /sys/devices/platform/uart: driver=uart ret=0",
		"driver_bound /sys/devices/platform/uart: driver=uart: bound",
		"bus_notify /sys/devices/platform/uart: BUS_NOTIFY_BOUND_DRIVER",
		"kobject_uevent /sys/devices/platform/uart: bind DRIVER=uart MODALIAS=platform:uart",
	}
	assert.Equal(t, want, bindSteps(a))
	assert.Equal(t, want, bindSteps(b))
}

// scenario2 registers a driver whose probe adds two devm actions and fails.
func scenario2(t *testing.T) (*drvsim.System, uint64, []string) {
	t.Helper()
	sys := newSystem(t)
	var ran []string
	drv := platform.NewDriver("sensor", func(dev *device.Device) error {
		dev.SetDrvdata("state")
		_, err := dev.Devres().Add("clk_disable", func() { ran = append(ran, "clk_disable") })
		require.NoError(t, err)
		_, err = dev.Devres().Add("regulator_disable", func() { ran = append(ran, "regulator_disable") })
		require.NoError(t, err)
		return fmt.Errorf("sensor: chip id mismatch: %w", device.ErrIO)
	}, nil)
	require.NoError(t, sys.RegisterDriver(drv))
	seq := sys.Log().Seq()
	dev := sys.NewPlatformDevice("sensor")
	require.NoError(t, sys.RegisterDevice(dev)) // a failed probe is not a device_add error
	require.Equal(t, device.StateAdded, dev.State())
	require.Nil(t, dev.Driver())
	require.Nil(t, dev.Drvdata())
	require.True(t, dev.Devres().Empty())
	require.Empty(t, sys.BoundDevices(drv))
	return sys, seq, ran
}

// Scenario 2: probe fails after two devm actions.
func TestScenario2_ProbeFailureReleasesDevresInReverse(t *testing.T) {
	sys, seq, ran := scenario2(t)
	assert.Equal(t, []string{"regulator_disable", "clk_disable"}, ran)
	assert.Equal(t, []string{
		"device_initialize /sys/devices/platform/sensor",
		"device_add /sys/devices/platform/sensor: bus=platform",
		"bus_notify /sys/devices/platform/sensor: BUS_NOTIFY_ADD_DEVICE",
		"kobject_uevent /sys/devices/platform/sensor: add MODALIAS=platform:sensor",
		"really_probe /sys/devices/platform/sensor: bus=platform driver=sensor",
		"bus_notify /sys/devices/platform/sensor: BUS_NOTIFY_BIND_DRIVER",
		"devm_add_action /sys/devices/platform/sensor: clk_disable",
		"devm_add_action /sys/devices/platform/sensor: regulator_disable",
		"call_driver_probe /sys/devices/platform/sensor: driver=sensor ret=-EIO: probe failed",
		"bus_notify /sys/devices/platform/sensor: BUS_NOTIFY_DRIVER_NOT_BOUND",
		"devres_release_all /sys/devices/platform/sensor: 2 actions",
		"devm_action_release /sys/devices/platform/sensor: regulator_disable",
		"devm_action_release /sys/devices/platform/sensor: clk_disable",
	}, since(sys, seq))
	for _, e := range sys.Events() {
		assert.NotContains(t, e.Msg, "bind DRIVER", "no bind uevent after a failed probe")
	}
}

// Scenario 3: a probe defers; another driver binds another device; the first
// is retried and binds; at the timeout, a driver with an optional dependency
// gives up on it and binds, one with a mandatory dependency stays pending.
func TestScenario3_DeferredProbeAndTimeout(t *testing.T) {
	sys := newSystem(t)
	attempts := 0
	codec := platform.NewDriver("codec", func(dev *device.Device) error {
		attempts++
		clk := sys.FindDevice(platform.Name, "clk")
		if clk == nil || clk.State() != device.StateBound {
			return device.ErrProbeDefer
		}
		return nil
	}, nil)
	require.NoError(t, sys.RegisterDriver(codec))
	codecDev := sys.NewPlatformDevice("codec")
	require.NoError(t, sys.RegisterDevice(codecDev))
	require.Equal(t, device.StateAdded, codecDev.State())
	require.Equal(t, []*device.Device{codecDev}, sys.DeferredDevices())

	require.NoError(t, sys.RegisterDriver(platform.NewDriver("clk", nil, nil)))
	seq := sys.Log().Seq()
	clkDev := sys.NewPlatformDevice("clk")
	require.NoError(t, sys.RegisterDevice(clkDev))
	require.Equal(t, device.StateBound, clkDev.State())
	require.Equal(t, device.StateBound, codecDev.State())
	require.Equal(t, 2, attempts)
	require.Empty(t, sys.DeferredDevices())
	assert.Equal(t, []string{
		"device_initialize /sys/devices/platform/clk",
		"device_add /sys/devices/platform/clk: bus=platform",
		"bus_notify /sys/devices/platform/clk: BUS_NOTIFY_ADD_DEVICE",
		"kobject_uevent /sys/devices/platform/clk: add MODALIAS=platform:clk",
		"really_probe /sys/devices/platform/clk: bus=platform driver=clk",
		"bus_notify /sys/devices/platform/clk: BUS_NOTIFY_BIND_DRIVER",
		"call_driver_probe /sys/devices/platform/clk: driver=clk ret=0",
		"driver_bound /sys/devices/platform/clk: driver=clk: bound",
		"driver_deferred_probe_trigger: pending list moved to the active list",
		"bus_notify /sys/devices/platform/clk: BUS_NOTIFY_BOUND_DRIVER",
		"kobject_uevent /sys/devices/platform/clk: bind DRIVER=clk MODALIAS=platform:clk",
		"deferred_probe_work_func /sys/devices/platform/codec: retrying from the deferred list",
		"really_probe /sys/devices/platform/codec: bus=platform driver=codec",
		"bus_notify /sys/devices/platform/codec: BUS_NOTIFY_BIND_DRIVER",
		"call_driver_probe /sys/devices/platform/codec: driver=codec ret=0",
		"driver_bound /sys/devices/platform/codec: driver=codec: bound",
		"bus_notify /sys/devices/platform/codec: BUS_NOTIFY_BOUND_DRIVER",
		"kobject_uevent /sys/devices/platform/codec: bind DRIVER=codec MODALIAS=platform:codec",
	}, since(sys, seq))

	// Two devices whose dependency never shows up: dsp needs it, so it
	// defers for good; gpu can live without it (an optional power domain),
	// so it asks driver_deferred_probe_check_state and, after the timeout,
	// probes without it.
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("dsp", func(*device.Device) error { return device.ErrProbeDefer }, nil)))
	gpuWithoutPD := false
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("gpu", func(dev *device.Device) error {
		if err := sys.DeferredProbeCheckState(dev); !errors.Is(err, device.ErrTimedOut) {
			return err // still waiting for the power domain
		}
		gpuWithoutPD = true
		return nil
	}, nil)))
	dsp, gpu := sys.NewPlatformDevice("dsp"), sys.NewPlatformDevice("gpu")
	require.NoError(t, sys.RegisterDevice(dsp))
	require.NoError(t, sys.RegisterDevice(gpu))
	require.Equal(t, []*device.Device{dsp, gpu}, sys.DeferredDevices())
	sys.Advance(9 * time.Second)
	require.False(t, sys.DeferredTimedOut())
	require.Equal(t, []*device.Device{dsp, gpu}, sys.DeferredDevices())
	seq = sys.Log().Seq()
	sys.Advance(time.Second) // 10 s: driver_deferred_probe_timeout
	require.True(t, sys.DeferredTimedOut())
	assert.Equal(t, []string{
		"deferred_probe_timeout_work_func: deferred probe timeout: optional dependencies are now ignored",
		"driver_deferred_probe_trigger: pending list moved to the active list",
		"deferred_probe_work_func /sys/devices/platform/dsp: retrying from the deferred list",
		"really_probe /sys/devices/platform/dsp: bus=platform driver=dsp",
		"bus_notify /sys/devices/platform/dsp: BUS_NOTIFY_BIND_DRIVER",
		"call_driver_probe /sys/devices/platform/dsp: driver=dsp ret=-EPROBE_DEFER: deferred",
		"bus_notify /sys/devices/platform/dsp: BUS_NOTIFY_DRIVER_NOT_BOUND",
		"devres_release_all /sys/devices/platform/dsp: 0 actions",
		"driver_deferred_probe_add /sys/devices/platform/dsp: added to the pending list",
		"deferred_probe_work_func /sys/devices/platform/gpu: retrying from the deferred list",
		"really_probe /sys/devices/platform/gpu: bus=platform driver=gpu",
		"bus_notify /sys/devices/platform/gpu: BUS_NOTIFY_BIND_DRIVER",
		"driver_deferred_probe_check_state /sys/devices/platform/gpu: deferred probe timeout, ignoring dependency",
		"call_driver_probe /sys/devices/platform/gpu: driver=gpu ret=0",
		"driver_bound /sys/devices/platform/gpu: driver=gpu: bound",
		// a bind triggers the pending list again: dsp is retried once more
		"driver_deferred_probe_trigger: pending list moved to the active list",
		"bus_notify /sys/devices/platform/gpu: BUS_NOTIFY_BOUND_DRIVER",
		"kobject_uevent /sys/devices/platform/gpu: bind DRIVER=gpu MODALIAS=platform:gpu",
		"deferred_probe_work_func /sys/devices/platform/dsp: retrying from the deferred list",
		"really_probe /sys/devices/platform/dsp: bus=platform driver=dsp",
		"bus_notify /sys/devices/platform/dsp: BUS_NOTIFY_BIND_DRIVER",
		"call_driver_probe /sys/devices/platform/dsp: driver=dsp ret=-EPROBE_DEFER: deferred",
		"bus_notify /sys/devices/platform/dsp: BUS_NOTIFY_DRIVER_NOT_BOUND",
		"devres_release_all /sys/devices/platform/dsp: 0 actions",
		"driver_deferred_probe_add /sys/devices/platform/dsp: added to the pending list",
		"deferred_probe_timeout_work_func /sys/devices/platform/dsp: deferred probe pending",
	}, since(sys, seq))
	assert.True(t, gpuWithoutPD)
	require.Equal(t, device.StateBound, gpu.State())
	// A mandatory dependency still defers: the device stays pending, as
	// the kernel leaves it, and binds if the dependency ever arrives.
	require.Equal(t, []*device.Device{dsp}, sys.DeferredDevices())
	require.Equal(t, device.StateAdded, dsp.State())
	require.ErrorIs(t, sys.Bind(dsp, "dsp"), device.ErrProbeDefer)
}

type regs struct{ base uint32 }

// scenario4 binds a driver that publishes a DevmProvider and unbinds it.
func scenario4(t *testing.T) (*drvsim.System, uint64, *revocable.Provider[regs]) {
	t.Helper()
	sys := newSystem(t)
	var prov *revocable.Provider[regs]
	drv := platform.NewDriver("gpio", func(dev *device.Device) error {
		var err error
		prov, err = revocable.DevmProvider(dev, &regs{base: 0x1000}, revocable.WithName("gpio-regs"))
		if err != nil {
			return err
		}
		_, err = dev.Devres().Add("irq_free", func() {})
		return err
	}, func(dev *device.Device) {
		sys.Log().Emit(trace.Event{Kind: trace.Note, Dev: dev.Path(), Func: "gpio_remove", Msg: "driver remove runs"})
	})
	require.NoError(t, sys.RegisterDriver(drv))
	dev := sys.NewPlatformDevice("gpio")
	require.NoError(t, sys.RegisterDevice(dev))
	require.Equal(t, device.StateBound, dev.State())
	cons, err := revocable.New(prov)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cons.Close() })
	require.NoError(t, cons.With(func(r *regs) error { return nil }))

	seq := sys.Log().Seq()
	require.NoError(t, sys.Unbind(dev))
	require.True(t, prov.Revoked())
	require.ErrorIs(t, cons.With(func(*regs) error { return nil }), revocable.ErrRevoked)
	require.Equal(t, device.StateAdded, dev.State())
	return sys, seq, prov
}

// Scenario 4: unbind runs remove, then devres LIFO (the DevmProvider is
// revoked there, after remove), then the notifier, then the uevent.
func TestScenario4_UnbindOrder(t *testing.T) {
	sys, seq, _ := scenario4(t)
	core := trace.Filter(sys.Log().Since(seq), func(e trace.Event) bool {
		return e.Kind != trace.Revoke && e.Kind != trace.Revocable && e.Kind != trace.SRCU
	})
	assert.Equal(t, []string{
		"unbind_store /sys/devices/platform/gpio: driver=gpio",
		"__device_release_driver /sys/devices/platform/gpio: driver=gpio",
		"bus_notify /sys/devices/platform/gpio: BUS_NOTIFY_UNBIND_DRIVER",
		"device_remove /sys/devices/platform/gpio: driver=gpio",
		"gpio_remove /sys/devices/platform/gpio: driver remove runs",
		"devres_release_all /sys/devices/platform/gpio: 2 actions",
		"devm_action_release /sys/devices/platform/gpio: irq_free",
		"devm_action_release /sys/devices/platform/gpio: revocable_provider_revoke gpio-regs",
		"bus_notify /sys/devices/platform/gpio: BUS_NOTIFY_UNBOUND_DRIVER",
		"kobject_uevent /sys/devices/platform/gpio: unbind MODALIAS=platform:gpio",
	}, trace.Shorts(core))
	// The revocation itself sits between its devres action and the notifier.
	all := since(sys, seq)
	idx := func(s string) int {
		for i, x := range all {
			if x == s {
				return i
			}
		}
		return -1
	}
	var revoke int = -1
	for i, e := range sys.Log().Since(seq) {
		if e.Kind == trace.Revoke {
			revoke = i
			break
		}
	}
	require.GreaterOrEqual(t, revoke, 0)
	assert.Greater(t, revoke, idx("gpio_remove /sys/devices/platform/gpio: driver remove runs"))
	assert.Greater(t, revoke, idx("devm_action_release /sys/devices/platform/gpio: revocable_provider_revoke gpio-regs"))
	assert.Less(t, revoke, idx("bus_notify /sys/devices/platform/gpio: BUS_NOTIFY_UNBOUND_DRIVER"))
}

// Scenario 5: removing a parent with two bound children removes them first;
// deleting a parent that still has children is reported.
func TestScenario5_ParentWithChildren(t *testing.T) {
	sys := newSystem(t)
	var removed []string
	remove := func(dev *device.Device) { removed = append(removed, dev.Name()) }
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("hub", nil, remove)))
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("port", nil, remove)))
	var released []string
	rel := device.WithRelease(func(d *device.Device) { released = append(released, d.Name()) })
	hub := sys.NewPlatformDevice("hub", rel)
	require.NoError(t, sys.RegisterDevice(hub))
	p1 := sys.NewPlatformDevice("port.1", device.WithParent(hub), rel)
	p2 := sys.NewPlatformDevice("port.2", device.WithParent(hub), rel)
	require.NoError(t, sys.RegisterDevice(p1))
	require.NoError(t, sys.RegisterDevice(p2))
	require.Equal(t, "/sys/devices/platform/hub/port.1", p1.Path())
	require.Equal(t, device.StateBound, p1.State())
	require.Equal(t, device.StateBound, p2.State())
	require.Equal(t, []*device.Device{p1, p2}, hub.Children())
	assert.Equal(t, `/sys/devices
  platform/hub bus=platform driver=hub state=bound
    platform/hub/port.1 bus=platform driver=port state=bound
    platform/hub/port.2 bus=platform driver=port state=bound
/sys/bus/platform
  devices: hub port.1 port.2
  drivers/hub: hub
  drivers/port: port.1 port.2
`, sys.Tree())

	// Misuse: device_del on a parent with registered children.
	seq := sys.Log().Seq()
	err := sys.UnregisterDevice(hub)
	require.ErrorIs(t, err, device.ErrBusy)
	assert.Equal(t, []string{"device_del /sys/devices/platform/hub: device still has 2 registered children; remove them first"}, since(sys, seq))
	require.Equal(t, device.StateBound, hub.State(), "state intact")
	require.Equal(t, 2, hub.NumChildren())
	require.Empty(t, removed)

	// The subsystem helper removes the children first, newest first.
	require.NoError(t, sys.UnregisterTree(hub))
	assert.Equal(t, []string{"port.2", "port.1", "hub"}, removed)
	assert.Equal(t, []string{"port.2", "port.1", "hub"}, released)
	assert.Equal(t, device.StateRemoved, hub.State())
	assert.Empty(t, sys.Devices())
}

// Scenario 6: unregistering a driver with three bound devices unbinds each
// once, last bound first (driver_detach).
func TestScenario6_DriverUnregisterUnbindsAll(t *testing.T) {
	sys := newSystem(t)
	removes := map[string]int{}
	var order []string
	drv := &driver.Driver{Name: "led", Bus: platform.Name,
		IDTable: []driver.ID{{Name: "led"}},
		Remove: func(d *device.Device) {
			removes[d.Name()]++
			order = append(order, d.Name())
		}}
	require.NoError(t, sys.RegisterDriver(drv))
	var devs []*device.Device
	for i := range 3 {
		d := sys.NewPlatformDevice(fmt.Sprintf("led.%d", i))
		require.NoError(t, sys.RegisterDevice(d))
		require.Equal(t, device.StateBound, d.State())
		devs = append(devs, d)
	}
	seq := sys.Log().Seq()
	require.NoError(t, sys.UnregisterDriver(drv))
	assert.Equal(t, map[string]int{"led.0": 1, "led.1": 1, "led.2": 1}, removes)
	assert.Equal(t, []string{"led.2", "led.1", "led.0"}, order)
	for _, d := range devs {
		assert.Equal(t, device.StateAdded, d.State())
		assert.Nil(t, d.Driver())
	}
	unbinds := trace.Filter(sys.Log().Since(seq), trace.OfKind(trace.Unbind))
	assert.Len(t, unbinds, 3)
	assert.Nil(t, sys.FindDriver(platform.Name, "led"))
	require.ErrorIs(t, sys.UnregisterDriver(drv), device.ErrNoEntry)
	// The driver can come back and binds again.
	require.NoError(t, sys.RegisterDriver(drv))
	assert.Len(t, sys.BoundDevices(drv), 3)
}

// Scenario 7: a reference held past unregister delays release to the last Put.
func TestScenario7_ReferencePastUnregister(t *testing.T) {
	sys := newSystem(t)
	released := 0
	dev := sys.NewPlatformDevice("nvme", device.WithRelease(func(*device.Device) { released++ }))
	require.NoError(t, sys.RegisterDevice(dev))
	require.EqualValues(t, 1, dev.Refs())
	held := dev.Get()
	require.NoError(t, sys.UnregisterDevice(dev))
	require.Equal(t, device.StateRemoved, dev.State())
	require.Equal(t, 0, released)
	require.False(t, dev.Released())
	require.Nil(t, sys.FindDevice(platform.Name, "nvme"))
	require.NoError(t, held.Put())
	require.Equal(t, 1, released)
	require.True(t, dev.Released())
	// Put below zero is reported, not a crash, and release does not rerun.
	seq := sys.Log().Seq()
	require.ErrorIs(t, dev.Put(), device.ErrInvalid)
	require.Equal(t, 1, released)
	assert.Equal(t, []string{"put_device /sys/devices/platform/nvme: reference count underflow"}, since(sys, seq))
}

// Scenario 8: driver_override, manual bind/unbind, suppressed bind attrs.
func TestScenario8_OverrideAndManualBind(t *testing.T) {
	sys := newSystem(t)
	generic := platform.NewDriver("serial", nil, nil)
	special := platform.NewDriver("vfio-platform", nil, nil)
	locked := &driver.Driver{Name: "pmic", Bus: platform.Name, SuppressBindAttrs: true}
	require.NoError(t, sys.RegisterDriver(generic))
	require.NoError(t, sys.RegisterDriver(special))
	require.NoError(t, sys.RegisterDriver(locked))

	// driver_override set before registration: only that driver binds.
	dev := sys.NewPlatformDevice("serial")
	dev.SetDriverOverride("vfio-platform")
	require.NoError(t, sys.RegisterDevice(dev))
	require.Equal(t, "vfio-platform", dev.DriverName())

	// Manual bind of a bound device: busy.
	require.ErrorIs(t, sys.Bind(dev, "vfio-platform"), device.ErrBusy)
	// Manual bind to a driver the override excludes: no match.
	require.ErrorIs(t, sys.Bind(dev, "serial"), device.ErrNoDevice)
	require.ErrorIs(t, sys.Bind(dev, "nosuch"), device.ErrNoEntry)

	// Manual unbind, clear the override, manual bind to the generic driver.
	require.NoError(t, sys.Unbind(dev))
	require.Nil(t, dev.Driver())
	require.ErrorIs(t, sys.Unbind(dev), device.ErrNoDevice)
	dev.SetDriverOverride("")
	require.NoError(t, sys.Bind(dev, "serial"))
	require.Equal(t, "serial", dev.DriverName())

	// Suppressed bind attributes: bind and unbind refused, state intact.
	pm := sys.NewPlatformDevice("pmic")
	require.NoError(t, sys.RegisterDevice(pm))
	require.Equal(t, "pmic", pm.DriverName())
	err := sys.Unbind(pm)
	require.ErrorIs(t, err, device.ErrNoEntry)
	require.Contains(t, err.Error(), "suppresses its bind attributes")
	require.Equal(t, device.StateBound, pm.State())
	other := sys.NewPlatformDevice("pmic.1")
	other.SetDriverOverride("none") // keep it unbound
	require.NoError(t, sys.RegisterDevice(other))
	other.SetDriverOverride("")
	require.ErrorIs(t, sys.Bind(other, "pmic"), device.ErrNoEntry)
	require.Nil(t, other.Driver())
	// device_release_driver (what a subsystem calls) still works.
	require.NoError(t, sys.ReleaseDriver(pm))
	require.Nil(t, pm.Driver())
}

// Scenario 9: a consumer defers until its supplier binds; unbinding the
// supplier unbinds the consumer first.
func TestScenario9_DeviceLinks(t *testing.T) {
	sys := newSystem(t)
	var removed []string
	rm := func(d *device.Device) { removed = append(removed, d.Name()) }
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("panel", nil, rm)))
	panel := sys.NewPlatformDevice("panel")
	pwm := sys.NewPlatformDevice("pwm")
	require.NoError(t, sys.RegisterDevice(pwm)) // no driver yet
	panel.SetDriverOverride("none")
	require.NoError(t, sys.RegisterDevice(panel))
	link, err := sys.AddLink(panel, pwm, device.LinkAutoprobeConsumer)
	require.NoError(t, err)
	panel.SetDriverOverride("")

	seq := sys.Log().Seq()
	bound, err := sys.Attach(panel)
	require.NoError(t, err)
	require.False(t, bound)
	assert.Equal(t, []string{
		"device_links_check_suppliers /sys/devices/platform/panel: probe deferral - supplier pwm not ready",
		"driver_deferred_probe_add /sys/devices/platform/panel: added to the pending list",
	}, since(sys, seq))

	seq = sys.Log().Seq()
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("pwm", nil, rm)))
	require.Equal(t, device.StateBound, pwm.State())
	require.Equal(t, device.StateBound, panel.State())
	assert.Contains(t, since(sys, seq), "deferred_probe_work_func /sys/devices/platform/panel: retrying from the deferred list")

	// Consumers after suppliers on the device list: shutdown reaches panel first.
	require.Equal(t, []*device.Device{pwm, panel}, sys.Devices())

	seq = sys.Log().Seq()
	require.NoError(t, sys.Unbind(pwm))
	assert.Equal(t, []string{"panel", "pwm"}, removed)
	assert.Equal(t, []string{
		"unbind_store /sys/devices/platform/pwm: driver=pwm",
		"device_links_unbind_consumers /sys/devices/platform/panel: supplier pwm is unbinding",
		"__device_release_driver /sys/devices/platform/panel: driver=panel",
		"bus_notify /sys/devices/platform/panel: BUS_NOTIFY_UNBIND_DRIVER",
		"device_remove /sys/devices/platform/panel: driver=panel",
		"devres_release_all /sys/devices/platform/panel: 0 actions",
		"bus_notify /sys/devices/platform/panel: BUS_NOTIFY_UNBOUND_DRIVER",
		"kobject_uevent /sys/devices/platform/panel: unbind MODALIAS=platform:panel",
		"__device_release_driver /sys/devices/platform/pwm: driver=pwm",
		"bus_notify /sys/devices/platform/pwm: BUS_NOTIFY_UNBIND_DRIVER",
		"device_remove /sys/devices/platform/pwm: driver=pwm",
		"devres_release_all /sys/devices/platform/pwm: 0 actions",
		"bus_notify /sys/devices/platform/pwm: BUS_NOTIFY_UNBOUND_DRIVER",
		"kobject_uevent /sys/devices/platform/pwm: unbind MODALIAS=platform:pwm",
	}, since(sys, seq))

	// The panel cannot rebind while its supplier is unbound.
	require.ErrorIs(t, sys.Bind(panel, "panel"), device.ErrProbeDefer)
	// Links are purged at device_del.
	require.NoError(t, sys.UnregisterDevice(pwm))
	require.Empty(t, panel.Suppliers())
	require.ErrorIs(t, sys.DeleteLink(link), device.ErrNoEntry)
	bound, err = sys.Attach(panel)
	require.NoError(t, err)
	require.True(t, bound)
}

// asyncScenario registers an asynchronous driver and five devices.
func asyncScenario(t *testing.T) string {
	t.Helper()
	sys := drvsim.NewSystem()
	defer sys.Close()
	var mu sync.Mutex
	probed := 0
	drv := &driver.Driver{Name: "wifi", Bus: platform.Name, ProbeType: driver.ProbePreferAsynchronous,
		IDTable: []driver.ID{{Name: "wifi"}},
		Probe: func(*device.Device) error {
			mu.Lock()
			probed++
			mu.Unlock()
			return nil
		}}
	require.NoError(t, sys.RegisterDriver(drv))
	var devs []*device.Device
	for i := range 5 {
		d := sys.NewPlatformDevice(fmt.Sprintf("wifi.%d", i))
		require.NoError(t, sys.RegisterDevice(d))
		devs = append(devs, d)
	}
	sys.WaitForProbes()
	mu.Lock()
	require.Equal(t, 5, probed)
	mu.Unlock()
	for _, d := range devs {
		require.Equal(t, device.StateBound, d.State())
	}
	// A second async driver registered later attaches through driver_attach.
	drv2 := &driver.Driver{Name: "bt", Bus: platform.Name, ProbeType: driver.ProbePreferAsynchronous}
	bt := sys.NewPlatformDevice("bt")
	require.NoError(t, sys.RegisterDevice(bt))
	require.NoError(t, sys.RegisterDriver(drv2))
	sys.WaitForProbes()
	require.Equal(t, "bt", bt.DriverName())
	return sys.Log().String()
}

// Scenario 10: async probe; WaitForProbes returns after all are bound, and
// the trace is identical across 100 runs.
func TestScenario10_AsyncProbeDeterministic(t *testing.T) {
	first := asyncScenario(t)
	require.Contains(t, first, "__device_attach_async_helper /sys/devices/platform/wifi.0")
	require.Contains(t, first, "__driver_attach_async_helper /sys/devices/platform/bt: driver=bt")
	for range 99 {
		require.Equal(t, first, asyncScenario(t))
	}
}

func TestAsyncConcurrentMode(t *testing.T) {
	sys := newSystem(t)
	sys.SetAsyncConcurrent(true)
	drv := &driver.Driver{Name: "nic", Bus: platform.Name, ProbeType: driver.ProbePreferAsynchronous}
	require.NoError(t, sys.RegisterDriver(drv))
	var devs []*device.Device
	for i := range 20 {
		d := sys.NewPlatformDevice(fmt.Sprintf("nic.%d", i))
		require.NoError(t, sys.RegisterDevice(d))
		devs = append(devs, d)
	}
	sys.WaitForProbes()
	for _, d := range devs {
		require.Equal(t, device.StateBound, d.State())
	}
	require.NoError(t, sys.UnregisterDriver(drv))
	for _, d := range devs {
		require.NoError(t, sys.UnregisterDevice(d))
	}
}

func TestCloseDropsQueuedAsyncProbes(t *testing.T) {
	sys := drvsim.NewSystem()
	drv := &driver.Driver{Name: "slow", Bus: platform.Name, ProbeType: driver.ProbePreferAsynchronous}
	require.NoError(t, sys.RegisterDriver(drv))
	dev := sys.NewPlatformDevice("slow")
	require.NoError(t, sys.RegisterDevice(dev))
	require.EqualValues(t, 2, dev.Refs(), "the queued probe holds a reference")
	sys.Close()
	require.EqualValues(t, 1, dev.Refs())
	require.Nil(t, dev.Driver())
	// After Close, probes run synchronously.
	dev2 := sys.NewPlatformDevice("slow.1")
	require.NoError(t, sys.RegisterDevice(dev2))
	require.Equal(t, "slow", dev2.DriverName())
	sys.Close()
}

// A driver that calls back into the core for its own device while the
// device lock is held gets ErrDeadlock, not a hang.
func TestDeadlockReported(t *testing.T) {
	sys := newSystem(t)
	var probeErr, removeErr error
	var dev *device.Device
	drv := platform.NewDriver("selfish", func(d *device.Device) error {
		probeErr = sys.Unbind(d)
		return nil
	}, func(d *device.Device) {
		removeErr = sys.UnregisterDevice(d)
	})
	require.NoError(t, sys.RegisterDriver(drv))
	dev = sys.NewPlatformDevice("selfish")
	require.NoError(t, sys.RegisterDevice(dev))
	require.ErrorIs(t, probeErr, device.ErrDeadlock)
	require.Equal(t, device.StateBound, dev.State())
	seq := sys.Log().Seq()
	require.NoError(t, sys.ReleaseDriver(dev))
	require.ErrorIs(t, removeErr, device.ErrDeadlock)
	assert.Contains(t, since(sys, seq), "device_lock /sys/devices/platform/selfish: possible recursive locking: task already holds the device lock")
	require.Equal(t, device.StateAdded, dev.State())
	require.NoError(t, sys.UnregisterDevice(dev))
}

// Another goroutine's call waits for the lock instead of failing.
func TestDeviceLockContentionWaits(t *testing.T) {
	sys := newSystem(t)
	entered := make(chan struct{})
	release := make(chan struct{})
	drv := platform.NewDriver("slow", func(*device.Device) error {
		close(entered)
		<-release
		return nil
	}, nil)
	require.NoError(t, sys.RegisterDriver(drv))
	dev := sys.NewPlatformDevice("slow")
	done := make(chan error)
	go func() { done <- sys.RegisterDevice(dev) }()
	<-entered
	unbound := make(chan error)
	go func() { unbound <- sys.Unbind(dev) }()
	close(release)
	require.NoError(t, <-done)
	require.NoError(t, <-unbound)
	require.Nil(t, dev.Driver())
}

func TestNotifierOrder(t *testing.T) {
	sys := newSystem(t)
	var got []string
	unreg, err := sys.RegisterNotifier(platform.Name, func(a bus.Action, dev *device.Device) {
		got = append(got, a.String())
	})
	require.NoError(t, err)
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("a", nil, nil)))
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("b", func(*device.Device) error { return device.ErrIO }, nil)))
	a := sys.NewPlatformDevice("a")
	require.NoError(t, sys.RegisterDevice(a))
	b := sys.NewPlatformDevice("b")
	require.NoError(t, sys.RegisterDevice(b))
	require.NoError(t, sys.UnregisterDevice(a))
	assert.Equal(t, []string{
		"BUS_NOTIFY_ADD_DEVICE", "BUS_NOTIFY_BIND_DRIVER", "BUS_NOTIFY_BOUND_DRIVER",
		"BUS_NOTIFY_ADD_DEVICE", "BUS_NOTIFY_BIND_DRIVER", "BUS_NOTIFY_DRIVER_NOT_BOUND",
		"BUS_NOTIFY_DEL_DEVICE", "BUS_NOTIFY_UNBIND_DRIVER", "BUS_NOTIFY_UNBOUND_DRIVER", "BUS_NOTIFY_REMOVED_DEVICE",
	}, got)
	unreg()
	require.NoError(t, sys.UnregisterDevice(b))
	assert.Len(t, got, 10)
}

func TestShutdownOrder(t *testing.T) {
	sys := newSystem(t)
	var order []string
	sd := func(d *device.Device) { order = append(order, d.Name()) }
	for _, n := range []string{"soc", "i2c", "codec", "amp"} {
		require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: n, Bus: platform.Name, Shutdown: sd}))
	}
	soc := sys.NewPlatformDevice("soc")
	require.NoError(t, sys.RegisterDevice(soc))
	amp := sys.NewPlatformDevice("amp") // registered before its supplier
	require.NoError(t, sys.RegisterDevice(amp))
	i2c := sys.NewPlatformDevice("i2c", device.WithParent(soc))
	require.NoError(t, sys.RegisterDevice(i2c))
	codec := sys.NewPlatformDevice("codec", device.WithParent(i2c))
	require.NoError(t, sys.RegisterDevice(codec))
	_, err := sys.AddLink(amp, codec, device.LinkStateless)
	require.NoError(t, err)
	unbound := sys.NewPlatformDevice("loose")
	require.NoError(t, sys.RegisterDevice(unbound))
	sys.Shutdown()
	assert.Equal(t, []string{"amp", "codec", "i2c", "soc"}, order)
	require.True(t, sys.ProbingBlocked())
}

func TestMisuse(t *testing.T) {
	sys := newSystem(t)
	// Registering a device twice.
	dev := sys.NewPlatformDevice("x")
	require.NoError(t, sys.RegisterDevice(dev))
	require.ErrorIs(t, sys.RegisterDevice(dev), device.ErrExist)
	require.ErrorIs(t, sys.AddDevice(dev), device.ErrExist)
	require.Equal(t, device.StateAdded, dev.State())
	require.EqualValues(t, 1, dev.Refs())
	// The same name twice on a bus.
	dup := sys.NewPlatformDevice("x")
	require.ErrorIs(t, sys.RegisterDevice(dup), device.ErrExist)
	require.NoError(t, dup.Put())
	// Adding an uninitialized device.
	require.ErrorIs(t, sys.AddDevice(sys.NewPlatformDevice("y")), device.ErrInvalid)
	// A device without a name.
	noname := sys.NewPlatformDevice("")
	require.ErrorIs(t, sys.RegisterDevice(noname), device.ErrInvalid)
	// Unregistering an unknown device, or twice.
	require.ErrorIs(t, sys.UnregisterDevice(sys.NewPlatformDevice("z")), device.ErrNoDevice)
	require.NoError(t, sys.UnregisterDevice(dev))
	require.ErrorIs(t, sys.UnregisterDevice(dev), device.ErrNoDevice)
	// A device of another System.
	other := drvsim.NewSystem()
	defer other.Close()
	od := other.NewPlatformDevice("o")
	require.NoError(t, other.RegisterDevice(od))
	require.ErrorIs(t, sys.UnregisterDevice(od), device.ErrNoDevice)
	require.Nil(t, sys.FindDevice(platform.Name, "o"))
	require.Len(t, other.Devices(), 1)
	// Drivers: no bus, no name, unknown bus, twice, same name.
	require.ErrorIs(t, sys.RegisterDriver(&driver.Driver{Name: "nobus"}), device.ErrInvalid)
	require.ErrorIs(t, sys.RegisterDriver(&driver.Driver{Bus: platform.Name}), device.ErrInvalid)
	require.ErrorIs(t, sys.RegisterDriver(&driver.Driver{Name: "d", Bus: "pci"}), device.ErrInvalid)
	require.ErrorIs(t, sys.RegisterDriver(nil), device.ErrInvalid)
	d := &driver.Driver{Name: "d", Bus: platform.Name} // nil Probe: binds without a call
	require.NoError(t, sys.RegisterDriver(d))
	// driver_find finds the name: -EBUSY, the same driver or another one.
	require.ErrorIs(t, sys.RegisterDriver(d), device.ErrBusy)
	require.ErrorIs(t, sys.RegisterDriver(&driver.Driver{Name: "d", Bus: platform.Name}), device.ErrBusy)
	dd := sys.NewPlatformDevice("d")
	require.NoError(t, sys.RegisterDevice(dd))
	require.Equal(t, device.StateBound, dd.State())
	// Binding an already-bound device.
	require.ErrorIs(t, sys.Bind(dd, "d"), device.ErrBusy)
	// Devres left over before probe: EBUSY and a warning.
	require.NoError(t, sys.Unbind(dd))
	_, err := dd.Devres().Add("leak", func() {})
	require.NoError(t, err)
	err = sys.Bind(dd, "d")
	require.ErrorIs(t, err, device.ErrBusy)
	require.Contains(t, sys.Log().String(), "really_probe /sys/devices/platform/d: Resources present before probing")
	require.Nil(t, dd.Driver())
	// Buses.
	require.ErrorIs(t, sys.RegisterBus(&bus.Bus{}), device.ErrInvalid)
	require.ErrorIs(t, sys.RegisterBus(platform.NewBus()), device.ErrExist)
	require.ErrorIs(t, sys.UnregisterBus(sys.Platform), device.ErrBusy)
	// Links.
	_, err = sys.AddLink(dd, dd, 0)
	require.ErrorIs(t, err, device.ErrInvalid)
	_, err = sys.AddLink(dd, od, 0)
	require.ErrorIs(t, err, device.ErrNoDevice)
}

func TestLinkLoopAndFlags(t *testing.T) {
	sys := newSystem(t)
	a := sys.NewPlatformDevice("a")
	b := sys.NewPlatformDevice("b", device.WithParent(a))
	require.NoError(t, sys.RegisterDevice(a))
	require.NoError(t, sys.RegisterDevice(b))
	_, err := sys.AddLink(a, b, 0) // a's child as a's supplier: loop
	require.ErrorIs(t, err, device.ErrInvalid)
	_, err = sys.AddLink(b, a, device.LinkStateless|device.LinkAutoprobeConsumer)
	require.ErrorIs(t, err, device.ErrInvalid)
	l, err := sys.AddLink(b, a, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	l2, err := sys.AddLink(b, a, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	require.Same(t, l, l2)
	require.Contains(t, sys.Tree(), "links\n  b -> a flags=AUTOREMOVE_CONSUMER\n")
}

// Two systems in one test share nothing.
func TestSystemsAreIndependent(t *testing.T) {
	s1, s2 := newSystem(t), newSystem(t)
	require.NoError(t, s1.RegisterDriver(platform.NewDriver("foo", nil, nil)))
	d2 := s2.NewPlatformDevice("foo")
	require.NoError(t, s2.RegisterDevice(d2))
	require.Nil(t, d2.Driver())
	require.Empty(t, s1.Devices())
	require.NotEqual(t, s1.Log().String(), s2.Log().String())
}

// A probe that returns -ENODEV lets the next matching driver try.
func TestNotMineTriesNextDriver(t *testing.T) {
	sys := newSystem(t)
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "first", Bus: platform.Name,
		IDTable: []driver.ID{{Name: "chip", Data: 1}},
		Probe:   func(*device.Device) error { return device.ErrNoDevice }}))
	var data any
	second := &driver.Driver{Name: "second", Bus: platform.Name, IDTable: []driver.ID{{Name: "chip", Data: 2}}}
	second.Probe = func(d *device.Device) error {
		id, _ := platform.ID(d, second)
		data = id.Data
		return nil
	}
	require.NoError(t, sys.RegisterDriver(second))
	dev := sys.NewPlatformDevice("chip.0")
	require.NoError(t, sys.RegisterDevice(dev))
	require.Equal(t, "second", dev.DriverName())
	require.Equal(t, 2, data)
	require.Contains(t, sys.Log().String(), "driver=first ret=-ENODEV: rejects match (not mine)")
}

func TestErrnoNames(t *testing.T) {
	assert.Equal(t, "-EPROBE_DEFER", device.ErrnoName(fmt.Errorf("x: %w", device.ErrProbeDefer)))
	assert.Equal(t, "0", device.ErrnoName(nil))
	assert.Equal(t, "boom", device.ErrnoName(errors.New("boom")))
}

// A deferred retry goes through device_initial_probe as the first attempt
// did: an asynchronous driver is queued again, not probed inline by the
// deferred worker and then queued a second time.
func TestDeferredRetryOfAsyncDriverIsAsync(t *testing.T) {
	sys := newSystem(t)
	probes := 0
	drv := &driver.Driver{Name: "wlan", Bus: platform.Name, ProbeType: driver.ProbePreferAsynchronous,
		Probe: func(dev *device.Device) error {
			probes++
			if fw := sys.FindDevice(platform.Name, "fw"); fw == nil || fw.State() != device.StateBound {
				return device.ErrProbeDefer
			}
			return nil
		}}
	require.NoError(t, sys.RegisterDriver(drv))
	wlan := sys.NewPlatformDevice("wlan")
	require.NoError(t, sys.RegisterDevice(wlan))
	sys.WaitForProbes()
	require.Equal(t, 1, probes)
	require.Equal(t, []*device.Device{wlan}, sys.DeferredDevices())

	require.NoError(t, sys.RegisterDriver(platform.NewDriver("fw", nil, nil)))
	seq := sys.Log().Seq()
	require.NoError(t, sys.RegisterDevice(sys.NewPlatformDevice("fw")))
	assert.Equal(t, 1, probes, "the deferred worker queues the asynchronous probe instead of running it")
	assert.Contains(t, since(sys, seq), "async_schedule_dev /sys/devices/platform/wlan: scheduling asynchronous probe")
	sys.WaitForProbes()
	assert.Equal(t, 2, probes, "one more probe, not two")
	assert.Equal(t, device.StateBound, wlan.State())
}

// device_del releases devres a device collected without a driver (after
// device_links_purge, before BUS_NOTIFY_REMOVED_DEVICE), and device_release
// releases what was added after device_del, before the release callback
// (core.c: device_del, device_release).
func TestDevresWithoutDriverReleasedAtDelAndRelease(t *testing.T) {
	sys := newSystem(t)
	var ran []string
	rec := func(n string) func() { return func() { ran = append(ran, n) } }
	dev := sys.NewPlatformDevice("gadget", device.WithRelease(func(*device.Device) { ran = append(ran, "release") }))
	require.NoError(t, sys.RegisterDevice(dev)) // no driver: stays unbound
	_, err := dev.Devres().Add("iounmap", rec("iounmap"))
	require.NoError(t, err)
	_, err = dev.Devres().Add("clk_put", rec("clk_put"))
	require.NoError(t, err)
	held := dev.Get()
	seq := sys.Log().Seq()
	require.NoError(t, sys.UnregisterDevice(dev))
	assert.Equal(t, []string{"clk_put", "iounmap"}, ran)
	assert.Equal(t, []string{
		"device_del /sys/devices/platform/gadget",
		"bus_notify /sys/devices/platform/gadget: BUS_NOTIFY_DEL_DEVICE",
		"devres_release_all /sys/devices/platform/gadget: 2 actions",
		"devm_action_release /sys/devices/platform/gadget: clk_put",
		"devm_action_release /sys/devices/platform/gadget: iounmap",
		"bus_notify /sys/devices/platform/gadget: BUS_NOTIFY_REMOVED_DEVICE",
		"kobject_uevent /sys/devices/platform/gadget: remove MODALIAS=platform:gadget",
	}, since(sys, seq))

	// Someone holding a reference adds devres after device_del: the last
	// put_device releases it before the release callback.
	_, err = dev.Devres().Add("late", rec("late"))
	require.NoError(t, err)
	seq = sys.Log().Seq()
	require.NoError(t, held.Put())
	assert.Equal(t, []string{"clk_put", "iounmap", "late", "release"}, ran)
	assert.Equal(t, []string{
		"devres_release_all /sys/devices/platform/gadget: 1 action",
		"devm_action_release /sys/devices/platform/gadget: late",
		"device_release /sys/devices/platform/gadget",
	}, since(sys, seq))
}

// bus_remove_device takes the device off the bus's list before it releases
// the driver: remove() no longer finds it by name (bus.c: bus_remove_device).
func TestBusRemoveDeviceLeavesBusBeforeRelease(t *testing.T) {
	sys := newSystem(t)
	var found *device.Device
	var onBus []*device.Device
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("eth", nil, func(d *device.Device) {
		found = sys.FindDevice(platform.Name, "eth")
		onBus = sys.BusDevices(platform.Name)
	})))
	dev := sys.NewPlatformDevice("eth")
	require.NoError(t, sys.RegisterDevice(dev))
	require.Equal(t, "eth", dev.DriverName())
	require.NoError(t, sys.UnregisterDevice(dev))
	assert.Nil(t, found, "bus_find_device_by_name during remove")
	assert.Empty(t, onBus)
}

// device_add joins the parent's child list only after bus_probe_device, so
// a probing child is not yet among its parent's children; device_link_add
// still refuses a link that would make the parent depend on it
// (core.c: device_add, device_is_dependent's ancestor check).
func TestChildJoinsParentAfterProbe(t *testing.T) {
	sys := newSystem(t)
	soc := sys.NewPlatformDevice("soc")
	require.NoError(t, sys.RegisterDevice(soc))
	var kidsDuringProbe []*device.Device
	var linkErr error
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("i2c", func(d *device.Device) error {
		kidsDuringProbe = d.Parent().Children()
		_, linkErr = sys.AddLink(d.Parent(), d, 0) // soc would depend on its own child
		return nil
	}, nil)))
	i2c := sys.NewPlatformDevice("i2c", device.WithParent(soc))
	require.NoError(t, sys.RegisterDevice(i2c))
	assert.Empty(t, kidsDuringProbe)
	assert.ErrorIs(t, linkErr, device.ErrInvalid)
	assert.Equal(t, []*device.Device{i2c}, soc.Children())
	assert.EqualValues(t, 2, soc.Refs(), "the child's reference on its parent")
	require.NoError(t, sys.UnregisterTree(soc))
}

// linkEvents keeps the device-link events recorded after seq.
func linkEvents(sys *drvsim.System, seq uint64) []string {
	return trace.Shorts(trace.Filter(sys.Log().Since(seq), trace.OfKind(trace.Link)))
}

// The order in which links are dropped: device_links_driver_cleanup handles
// the links to consumers first, then (in __device_links_no_driver) the links
// to suppliers from the newest; a failed probe drops the newest supplier
// link first; device_links_purge walks both lists from the newest
// (core.c).
func TestDeviceLinkDropOrder(t *testing.T) {
	sys := newSystem(t)
	for _, n := range []string{"s1", "s2", "mid", "c1"} {
		require.NoError(t, sys.RegisterDriver(platform.NewDriver(n, nil, nil)))
	}
	reg := func(n string) *device.Device {
		d := sys.NewPlatformDevice(n)
		require.NoError(t, sys.RegisterDevice(d))
		return d
	}
	s1, s2, mid, c1 := reg("s1"), reg("s2"), reg("mid"), reg("c1")
	_, err := sys.AddLink(mid, s1, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	_, err = sys.AddLink(mid, s2, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	_, err = sys.AddLink(c1, mid, device.LinkAutoremoveSupplier)
	require.NoError(t, err)

	seq := sys.Log().Seq()
	require.NoError(t, sys.Unbind(mid))
	assert.Equal(t, []string{
		"device_links_unbind_consumers /sys/devices/platform/c1: supplier mid is unbinding",
		"device_links_driver_cleanup /sys/devices/platform/c1: link to supplier /sys/devices/platform/mid dropped",
		"device_links_driver_cleanup /sys/devices/platform/mid: link to supplier /sys/devices/platform/s2 dropped",
		"device_links_driver_cleanup /sys/devices/platform/mid: link to supplier /sys/devices/platform/s1 dropped",
	}, linkEvents(sys, seq))

	// A failed probe: __device_links_no_driver, newest supplier link first.
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("bad", func(*device.Device) error { return device.ErrIO }, nil)))
	bad := sys.NewPlatformDevice("bad")
	bad.SetDriverOverride("none")
	require.NoError(t, sys.RegisterDevice(bad))
	_, err = sys.AddLink(bad, s1, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	_, err = sys.AddLink(bad, s2, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	bad.SetDriverOverride("")
	seq = sys.Log().Seq()
	bound, err := sys.Attach(bad)
	require.NoError(t, err)
	require.False(t, bound)
	assert.Equal(t, []string{
		"device_links_no_driver /sys/devices/platform/bad: link to supplier /sys/devices/platform/s2 dropped",
		"device_links_no_driver /sys/devices/platform/bad: link to supplier /sys/devices/platform/s1 dropped",
	}, linkEvents(sys, seq))

	// device_links_purge: suppliers newest first, then consumers newest first.
	_, err = sys.AddLink(mid, s1, device.LinkStateless)
	require.NoError(t, err)
	_, err = sys.AddLink(mid, s2, device.LinkStateless)
	require.NoError(t, err)
	_, err = sys.AddLink(c1, mid, device.LinkStateless)
	require.NoError(t, err)
	_, err = sys.AddLink(bad, mid, device.LinkStateless)
	require.NoError(t, err)
	seq = sys.Log().Seq()
	require.NoError(t, sys.UnregisterDevice(mid))
	assert.Equal(t, []string{
		"device_links_purge /sys/devices/platform/mid: link to supplier /sys/devices/platform/s2 dropped",
		"device_links_purge /sys/devices/platform/mid: link to supplier /sys/devices/platform/s1 dropped",
		"device_links_purge /sys/devices/platform/bad: link to supplier /sys/devices/platform/mid dropped",
		"device_links_purge /sys/devices/platform/c1: link to supplier /sys/devices/platform/mid dropped",
	}, linkEvents(sys, seq))
}

// device_link_add's flag rules: STATELESS excludes every managed flag,
// AUTOPROBE_CONSUMER excludes both AUTOREMOVE flags, and AUTOREMOVE_SUPPLIER
// wins over AUTOREMOVE_CONSUMER. Adding an existing managed link again keeps
// it for the longer of the two lifetimes.
func TestDeviceLinkAddFlags(t *testing.T) {
	sys := newSystem(t)
	a, b := sys.NewPlatformDevice("a"), sys.NewPlatformDevice("b")
	require.NoError(t, sys.RegisterDevice(a))
	require.NoError(t, sys.RegisterDevice(b))
	for _, f := range []device.LinkFlags{
		device.LinkStateless | device.LinkAutoremoveConsumer,
		device.LinkStateless | device.LinkAutoremoveSupplier,
		device.LinkStateless | device.LinkAutoprobeConsumer,
		device.LinkAutoprobeConsumer | device.LinkAutoremoveConsumer,
		device.LinkAutoprobeConsumer | device.LinkAutoremoveSupplier,
	} {
		_, err := sys.AddLink(b, a, f)
		require.ErrorIs(t, err, device.ErrInvalid, "flags %s", f)
	}
	l, err := sys.AddLink(b, a, device.LinkAutoremoveConsumer|device.LinkAutoremoveSupplier)
	require.NoError(t, err)
	assert.Equal(t, device.LinkAutoremoveSupplier, l.Flags)
	require.NoError(t, sys.UnregisterDevice(b)) // purges the link
	b = sys.NewPlatformDevice("b")
	require.NoError(t, sys.RegisterDevice(b))

	l, err = sys.AddLink(b, a, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	l2, err := sys.AddLink(b, a, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	require.Same(t, l, l2)
	assert.Equal(t, device.LinkAutoremoveConsumer, l.Flags)
	_, err = sys.AddLink(b, a, device.LinkAutoremoveSupplier)
	require.NoError(t, err)
	assert.Equal(t, device.LinkAutoremoveSupplier, l.Flags, "lives until the supplier unbinds")
	_, err = sys.AddLink(b, a, device.LinkAutoremoveConsumer)
	require.NoError(t, err)
	assert.Equal(t, device.LinkAutoremoveSupplier, l.Flags, "a shorter lifetime does not shorten it")
	_, err = sys.AddLink(b, a, 0)
	require.NoError(t, err)
	assert.Equal(t, device.LinkFlags(0), l.Flags, "persistent now")

	// A managed link is the core's: device_link_del refuses it while the
	// consumer is registered.
	seq := sys.Log().Seq()
	require.ErrorIs(t, sys.DeleteLink(l), device.ErrInvalid)
	assert.Equal(t, []string{"device_link_del /sys/devices/platform/b: Unable to drop a managed device link reference"}, since(sys, seq))
	assert.Len(t, b.Suppliers(), 1)
	s, err := sys.AddLink(a, b, device.LinkStateless)
	require.ErrorIs(t, err, device.ErrInvalid, "loop")
	require.Nil(t, s)
}

// device_reorder_to_tail moves a device's consumers along with it, whatever
// kind of link (core.c).
func TestReorderMovesStatelessConsumers(t *testing.T) {
	sys := newSystem(t)
	reg := func(n string) *device.Device {
		d := sys.NewPlatformDevice(n)
		require.NoError(t, sys.RegisterDevice(d))
		return d
	}
	x, y, z := reg("x"), reg("y"), reg("z")
	_, err := sys.AddLink(y, x, device.LinkStateless)
	require.NoError(t, err)
	require.Equal(t, []*device.Device{x, z, y}, sys.Devices())
	_, err = sys.AddLink(x, z, device.LinkStateless)
	require.NoError(t, err)
	assert.Equal(t, []*device.Device{z, x, y}, sys.Devices())
}

// deferred_probe_work_func moves each device it retries to the end of the
// device list (device_pm_move_to_tail), so a device that bound late is shut
// down before the supplier it waited for (dd.c).
func TestDeferredRetryMovesDeviceToTail(t *testing.T) {
	sys := newSystem(t)
	var order []string
	sd := func(d *device.Device) { order = append(order, d.Name()) }
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "codec", Bus: platform.Name, Shutdown: sd,
		Probe: func(*device.Device) error {
			if clk := sys.FindDevice(platform.Name, "clk"); clk == nil || clk.State() != device.StateBound {
				return device.ErrProbeDefer
			}
			return nil
		}}))
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "clk", Bus: platform.Name, Shutdown: sd}))
	codec, clk := sys.NewPlatformDevice("codec"), sys.NewPlatformDevice("clk")
	require.NoError(t, sys.RegisterDevice(codec))
	require.NoError(t, sys.RegisterDevice(clk))
	require.Equal(t, device.StateBound, codec.State())
	assert.Equal(t, []*device.Device{clk, codec}, sys.Devices())
	sys.Shutdown()
	assert.Equal(t, []string{"codec", "clk"}, order)
}

// device_shutdown waits for outstanding probes before it blocks probing: a
// queued asynchronous probe binds, and its device is shut down.
func TestShutdownWaitsForProbesBeforeBlocking(t *testing.T) {
	sys := newSystem(t)
	shut := 0
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "wifi", Bus: platform.Name,
		ProbeType: driver.ProbePreferAsynchronous, Shutdown: func(*device.Device) { shut++ }}))
	dev := sys.NewPlatformDevice("wifi")
	require.NoError(t, sys.RegisterDevice(dev)) // queued, not run yet
	require.Nil(t, dev.Driver())
	sys.Shutdown()
	assert.Equal(t, "wifi", dev.DriverName())
	assert.Equal(t, 1, shut)
	assert.True(t, sys.ProbingBlocked())
	// From now on every probe defers.
	late := sys.NewPlatformDevice("wifi.1")
	require.NoError(t, sys.RegisterDevice(late))
	sys.WaitForProbes()
	assert.Nil(t, late.Driver())
	assert.Contains(t, sys.DeferredDevices(), late)
}

// call_driver_probe treats only -ENODEV and -ENXIO as "not mine"; -ENOENT
// is a probe failure like any other.
func TestProbeENOENTIsAFailure(t *testing.T) {
	sys := newSystem(t)
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("fw", func(*device.Device) error { return device.ErrNoEntry }, nil)))
	require.NoError(t, sys.RegisterDevice(sys.NewPlatformDevice("fw")))
	assert.Contains(t, sys.Log().String(), "call_driver_probe /sys/devices/platform/fw: driver=fw ret=-ENOENT: probe failed")
}

// __driver_attach queues an asynchronous probe only for a device without a
// driver and without an asynchronous probe already pending (dd.c).
func TestAsyncDriverAttachSkipsBoundAndPending(t *testing.T) {
	sys := newSystem(t)
	ids := []driver.ID{{Name: "nic"}}
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "sync", Bus: platform.Name, IDTable: ids}))
	bound := sys.NewPlatformDevice("nic")
	require.NoError(t, sys.RegisterDevice(bound))
	require.Equal(t, "sync", bound.DriverName())
	free := sys.NewPlatformDevice("nic.1")
	free.SetDriverOverride("none")
	require.NoError(t, sys.RegisterDevice(free))
	free.SetDriverOverride("")
	seq := sys.Log().Seq()
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "a", Bus: platform.Name, IDTable: ids, ProbeType: driver.ProbePreferAsynchronous}))
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "b", Bus: platform.Name, IDTable: ids, ProbeType: driver.ProbePreferAsynchronous}))
	assert.Equal(t, []string{
		"async_schedule_dev /sys/devices/platform/nic.1: scheduling asynchronous probe driver=a",
	}, trace.Shorts(trace.Filter(sys.Log().Since(seq), trace.OfKind(trace.ProbeAsync))))
	sys.WaitForProbes()
	assert.Equal(t, "a", free.DriverName())
	assert.Equal(t, "sync", bound.DriverName())
}

// The deferred-probe worker retries through bus_probe_device, which does
// nothing on a bus whose drivers_autoprobe is off.
func TestDeferredRetryHonoursNoAutoprobe(t *testing.T) {
	sys := newSystem(t)
	b := &bus.Bus{Name: "virtio", NoAutoprobe: true}
	require.NoError(t, sys.RegisterBus(b))
	probes := 0
	require.NoError(t, sys.RegisterDriver(&driver.Driver{Name: "blk", Bus: "virtio", Probe: func(*device.Device) error {
		probes++
		return device.ErrProbeDefer
	}}))
	dev := device.New("vda", device.WithBus(b), device.WithRelease(func(*device.Device) {}))
	require.NoError(t, sys.RegisterDevice(dev))
	bound, err := sys.Attach(dev)
	require.NoError(t, err)
	require.False(t, bound)
	require.Equal(t, 1, probes)
	require.Equal(t, []*device.Device{dev}, sys.DeferredDevices())
	sys.FlushDeferred()
	assert.Equal(t, 1, probes, "no automatic retry on a bus without autoprobe")
	require.NoError(t, sys.UnregisterDevice(dev))
}

// driver_deferred_probe_add ignores a device that never matched a driver
// (dev->can_match): an AUTOPROBE_CONSUMER link does not queue it.
func TestAutoprobeConsumerThatNeverMatched(t *testing.T) {
	sys := newSystem(t)
	orphan, pwm := sys.NewPlatformDevice("orphan"), sys.NewPlatformDevice("pwm")
	require.NoError(t, sys.RegisterDevice(orphan))
	require.NoError(t, sys.RegisterDevice(pwm))
	_, err := sys.AddLink(orphan, pwm, device.LinkAutoprobeConsumer)
	require.NoError(t, err)
	seq := sys.Log().Seq()
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("pwm", nil, nil)))
	for _, s := range since(sys, seq) {
		assert.NotContains(t, s, "orphan")
	}
}

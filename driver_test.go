package drvsim_test

// End-to-end lifecycle tests of a whole System: registration, bind,
// probe failure, deferred probe, unbind, removal, references, manual
// bind, device links and asynchronous probe, each through the System's
// API the way a user drives it. Expected traces are in testdata/*.golden
// (go test . -update rewrites them). Tests of one part of the driver core
// are in bus/, of the device in device/.

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/internal/golden"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/sim"
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

// Device then driver, and driver then device, bind the same way: one
// probe, the device bound, the same steps from really_probe to the bind
// uevent.
func TestBindIsTheSameWhicheverRegistersFirst(t *testing.T) {
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
	golden.Lines(t, "testdata/bind-steps.golden", bindSteps(a))
	assert.Equal(t, bindSteps(a), bindSteps(b), "the same bind either way")
}

// failedProbe registers a driver whose probe adds two devm actions and
// fails, then its device, and checks the device is left unbound, without
// driver data or devres.
func failedProbe(t *testing.T) (*drvsim.System, uint64, []string) {
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

// A probe that fails after two devm actions: really_probe's error path
// releases them newest first and no bind uevent follows (docs/lifecycle.md,
// worked example 1).
func TestFailedProbeReleasesDevresNewestFirst(t *testing.T) {
	sys, seq, ran := failedProbe(t)
	assert.Equal(t, []string{"regulator_disable", "clk_disable"}, ran)
	golden.Lines(t, "testdata/failed-probe.golden", since(sys, seq))
	for _, e := range sys.Events() {
		assert.NotContains(t, e.Msg, "bind DRIVER", "no bind uevent after a failed probe")
	}
}

// A probe defers; another driver binds another device; the first is
// retried and binds; at the deferred probe timeout, a driver with an
// optional dependency gives up on it and binds, one with a mandatory
// dependency stays pending.
func TestDeferredProbeRetriedThenTimedOut(t *testing.T) {
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
	golden.Lines(t, "testdata/deferred-probe-retry.golden", since(sys, seq))

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
	// dsp is retried and defers, gpu binds without its power domain; that
	// bind triggers the pending list again, so dsp is retried once more.
	golden.Lines(t, "testdata/deferred-probe-timeout.golden", since(sys, seq))
	assert.True(t, gpuWithoutPD)
	require.Equal(t, device.StateBound, gpu.State())
	// A mandatory dependency still defers: the device stays pending, as
	// the kernel leaves it, and binds if the dependency ever arrives.
	require.Equal(t, []*device.Device{dsp}, sys.DeferredDevices())
	require.Equal(t, device.StateAdded, dsp.State())
	require.ErrorIs(t, sys.Bind(dsp, "dsp"), device.ErrProbeDefer)
}

type regs struct{ base uint32 }

// unbindWithProvider binds a driver that publishes a DevmProvider, opens
// a consumer, unbinds the device and checks the provider is revoked.
func unbindWithProvider(t *testing.T) (*drvsim.System, uint64, *revocable.Provider[regs]) {
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
	require.NoError(t, cons.OrReturn(func(r *regs) error { return nil }))

	seq := sys.Log().Seq()
	require.NoError(t, sys.Unbind(dev))
	require.True(t, prov.Revoked())
	require.ErrorIs(t, cons.OrReturn(func(*regs) error { return nil }), revocable.ErrRevoked)
	require.Equal(t, device.StateAdded, dev.State())
	return sys, seq, prov
}

// Unbind runs remove, then devres newest first (the DevmProvider is
// revoked there, after remove), then the notifier, then the uevent
// (docs/lifecycle.md, worked example 2).
func TestUnbindRunsRemoveThenDevresThenNotifies(t *testing.T) {
	sys, seq, _ := unbindWithProvider(t)
	core := trace.Filter(sys.Log().Since(seq), func(e trace.Event) bool {
		return e.Kind != trace.Revoke && e.Kind != trace.Revocable && e.Kind != trace.SRCU
	})
	golden.Lines(t, "testdata/unbind-order.golden", trace.Shorts(core))
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

// Removing a parent with two bound children removes them first, newest
// first; deleting a parent that still has children is refused and
// reported, its state intact.
func TestParentRemovedAfterItsChildren(t *testing.T) {
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
	golden.Check(t, "testdata/parent-with-children.tree.golden", sys.Tree())

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

// Unregistering a driver with three bound devices unbinds each once, last
// bound first (driver_detach); the driver can register again and binds
// them all.
func TestDriverUnregisterUnbindsEveryDeviceNewestFirst(t *testing.T) {
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

// A reference held past unregister delays the release to the last
// put_device; a put below zero is reported and releases nothing again.
func TestReferenceHeldPastUnregisterDelaysRelease(t *testing.T) {
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

// driver_override picks the driver; manual bind and unbind through sysfs
// follow it; a driver that suppresses its bind attributes refuses them.
func TestDriverOverrideAndManualBind(t *testing.T) {
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

// A device link's consumer defers until its supplier binds; unbinding the
// supplier unbinds the consumer first; the link is purged with the
// supplier.
func TestLinkedConsumerWaitsForSupplierAndUnbindsFirst(t *testing.T) {
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
	golden.Lines(t, "testdata/device-link-defer.golden", since(sys, seq))

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
	golden.Lines(t, "testdata/device-link-unbind.golden", since(sys, seq))

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

// asyncProbes registers an asynchronous driver and five devices, waits
// for their probes, then binds a device to a second asynchronous driver
// through driver_attach, and returns the trace.
func asyncProbes(t *testing.T) string {
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

// Asynchronous probes: WaitForProbes returns after all are bound, and the
// trace is the same across 100 runs.
func TestAsyncProbeTraceIsDeterministic(t *testing.T) {
	first := asyncProbes(t)
	require.Contains(t, first, "__device_attach_async_helper /sys/devices/platform/wifi.0")
	require.Contains(t, first, "__driver_attach_async_helper /sys/devices/platform/bt: driver=bt")
	for range 99 {
		require.Equal(t, first, asyncProbes(t))
	}
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

// A System built on a simulated run needs no Close: when sim.Run returns,
// no goroutine of the machine is left (the driver core's async-probe
// worker never started: its asynchronous probes are tasks of the run).
func TestSystemOnSimNeedsNoClose(t *testing.T) {
	res := sim.Run(sim.Config{}, func(s *sim.Sim) {
		sys := drvsim.NewSystem(drvsim.OnSim(s))
		drv := platform.NewDriver("foo", nil, nil)
		drv.ProbeType = driver.ProbePreferAsynchronous
		if err := sys.RegisterDriver(drv); err != nil {
			panic(err)
		}
		dev := sys.NewPlatformDevice("foo")
		if err := sys.RegisterDevice(dev); err != nil { // queues an async_probe task
			panic(err)
		}
		s.Go("unplug", func() {
			if err := sys.UnregisterDevice(dev); err != nil {
				panic(err)
			}
		})
	})
	require.False(t, res.Failed(), res.String())
	require.Contains(t, res.TraceText(), "[async_probe] ")
	goleak.VerifyNone(t)
}

// Platform data is the board's (dev_get_platdata): the probe reads it, and
// it is still there after the unbind, which clears the driver's drvdata.
func TestPlatformDataOutlivesTheDriver(t *testing.T) {
	sys := newSystem(t)
	type wiring struct{ irq int }
	var seen int
	probe := func(dev *device.Device) error {
		w, ok := dev.PlatformData().(*wiring)
		if !ok {
			return drvsim.ErrInvalid
		}
		seen = w.irq
		dev.SetDrvdata(w.irq)
		return nil
	}
	require.NoError(t, sys.RegisterDriver(platform.NewDriver("ec", probe, nil)))
	dev := sys.NewPlatformDevice("ec.0", device.WithPlatformData(&wiring{irq: 17}))
	require.NoError(t, sys.RegisterDevice(dev))
	require.Equal(t, 17, seen)
	require.NoError(t, sys.Unbind(dev))
	assert.Nil(t, dev.Drvdata())
	assert.Equal(t, &wiring{irq: 17}, dev.PlatformData())
}

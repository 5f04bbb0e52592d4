package bus_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func newCore(t *testing.T) (*bus.Core, *bus.Bus) {
	t.Helper()
	c := bus.NewCore(nil)
	t.Cleanup(c.Close)
	b := platform.NewBus()
	require.NoError(t, c.RegisterBus(b))
	return c, b
}

func funcs(l *trace.Log, since uint64) []string {
	var out []string
	for _, e := range l.Since(since) {
		out = append(out, e.Func)
	}
	return out
}

// A bus with its own probe, remove and shutdown wraps the driver's.
func TestBusCallbacksWrapDriver(t *testing.T) {
	c := bus.NewCore(nil)
	defer c.Close()
	var calls []string
	b := &bus.Bus{
		Name: "spi",
		Match: func(dev *device.Device, drv *driver.Driver) bool {
			_, ok := drv.MatchID(dev.Name())
			return ok
		},
		Probe: func(dev *device.Device, drv *driver.Driver) error {
			calls = append(calls, "bus probe")
			return drv.CallProbe(dev)
		},
		Remove: func(dev *device.Device, drv *driver.Driver) {
			calls = append(calls, "bus remove")
			drv.CallRemove(dev)
		},
		Shutdown: func(dev *device.Device, drv *driver.Driver) {
			if drv == nil {
				calls = append(calls, "bus shutdown "+dev.Name()+" (no driver)")
				return
			}
			calls = append(calls, "bus shutdown "+dev.Name())
		},
		Uevent: func(dev *device.Device) []string { return []string{"MODALIAS=spi:" + dev.Name()} },
	}
	require.NoError(t, c.RegisterBus(b))
	drv := &driver.Driver{Name: "flash", Bus: "spi", IDTable: []driver.ID{{Name: "m25p80"}},
		Probe:  func(*device.Device) error { calls = append(calls, "drv probe"); return nil },
		Remove: func(*device.Device) { calls = append(calls, "drv remove") }}
	require.NoError(t, c.RegisterDriver(drv))
	dev := device.New("m25p80", device.WithBus(b), device.WithRelease(func(*device.Device) {}))
	require.NoError(t, c.RegisterDevice(dev))
	require.Equal(t, "/sys/devices/m25p80", dev.Path())
	other := device.New("other", device.WithBus(b), device.WithRelease(func(*device.Device) {}))
	require.NoError(t, c.RegisterDevice(other))
	require.Nil(t, other.Driver(), "no id-table match")
	c.Shutdown()
	require.NoError(t, c.UnregisterDevice(dev))
	// device_shutdown calls the bus's shutdown for every device of the bus,
	// bound or not, last registered first.
	assert.Equal(t, []string{"bus probe", "drv probe", "bus shutdown other (no driver)", "bus shutdown m25p80",
		"bus remove", "drv remove"}, calls)
	assert.Contains(t, c.Log().String(), "kobject_uevent /sys/devices/m25p80: bind DRIVER=flash MODALIAS=spi:m25p80")
}

// really_probe's trigger-count guard: a trigger that fires while a probe
// runs and then defers must not strand the device.
func TestTriggerCountGuard(t *testing.T) {
	c, b := newCore(t)
	require.NoError(t, c.RegisterDriver(platform.NewDriver("helper", nil, nil)))
	attempts := 0
	require.NoError(t, c.RegisterDriver(platform.NewDriver("main", func(dev *device.Device) error {
		attempts++
		if attempts == 1 {
			// binding another device triggers the deferred list while we probe
			h := platform.NewDevice(b, "helper")
			require.NoError(t, c.RegisterDevice(h))
			return device.ErrProbeDefer
		}
		return nil
	}, nil)))
	dev := platform.NewDevice(b, "main")
	require.NoError(t, c.RegisterDevice(dev))
	assert.Equal(t, 2, attempts)
	assert.Equal(t, "main", dev.DriverName())
	assert.Empty(t, c.DeferredDevices())
}

func TestNoAutoprobeAndManualAttach(t *testing.T) {
	c := bus.NewCore(nil)
	defer c.Close()
	b := &bus.Bus{Name: "virtio", NoAutoprobe: true}
	require.NoError(t, c.RegisterBus(b))
	require.NoError(t, c.RegisterDriver(&driver.Driver{Name: "net", Bus: "virtio"}))
	dev := device.New("virtio0", device.WithBus(b), device.WithRelease(func(*device.Device) {}))
	require.NoError(t, c.RegisterDevice(dev))
	require.Nil(t, dev.Driver())
	bound, err := c.Attach(dev)
	require.NoError(t, err)
	require.True(t, bound)
	require.NoError(t, c.UnregisterDevice(dev))
	require.NoError(t, c.UnregisterDriver(c.FindDriver("virtio", "net")))
	require.NoError(t, c.UnregisterBus(b))
	require.Nil(t, c.Bus("virtio"))
}

type faultSched struct {
	points []string
	fail   string
}

func (f *faultSched) Yield(p sched.Point)           { f.points = append(f.points, p.Kind) }
func (f *faultSched) Block(sched.Wait, func() bool) { panic("block") }
func (f *faultSched) Current() string               { return "T" }
func (f *faultSched) Fault(point string) error {
	if point == f.fail {
		return fmt.Errorf("injected: %w", device.ErrNoMemory)
	}
	return nil
}

func TestSchedulerPointsAndProbeFault(t *testing.T) {
	s := &faultSched{fail: sched.Probe("flaky")}
	c := bus.NewCore(env.New(env.WithScheduler(s)))
	t.Cleanup(c.Close)
	b := platform.NewBus()
	require.NoError(t, c.RegisterBus(b))
	called := false
	require.NoError(t, c.RegisterDriver(platform.NewDriver("flaky", func(*device.Device) error { called = true; return nil }, nil)))
	_, err := c.RegisterNotifier(platform.Name, func(bus.Action, *device.Device) {})
	require.NoError(t, err)
	dev := platform.NewDevice(b, "flaky")
	require.NoError(t, c.RegisterDevice(dev))
	assert.False(t, called)
	assert.Nil(t, dev.Driver())
	assert.Contains(t, c.Log().String(), "call_driver_probe /sys/devices/platform/flaky: probe:flaky: injected")
	assert.Contains(t, c.Log().String(), "driver=flaky ret=-ENOMEM: probe failed")
	assert.Contains(t, s.points, "device_lock")
	assert.Contains(t, s.points, "notify")
	assert.Contains(t, s.points, "probe")
	s.fail = ""
	bound, err := c.Attach(dev)
	require.NoError(t, err)
	require.True(t, bound)
}

// A chain of N devices, each depending on the next, binds completely once
// the last one binds; every device is retried from the deferred list.
func TestDeferredChain(t *testing.T) {
	c, b := newCore(t)
	const n = 20
	registerChain(t, c, b, n)
	for i := range n {
		assert.Equal(t, device.StateBound, c.FindDevice(platform.Name, fmt.Sprintf("link.%d", i)).State())
	}
	// n probes for the first pass plus n-1+n-2+...+1 retries
	assert.EqualValues(t, n+n*(n-1)/2, c.ProbeAttempts())
}

func registerChain(t testing.TB, c *bus.Core, b *bus.Bus, n int) {
	t.Helper()
	require.NoError(t, c.RegisterDriver(&driver.Driver{Name: "link", Bus: platform.Name, Probe: func(dev *device.Device) error {
		var i int
		_, _ = fmt.Sscanf(dev.Name(), "link.%d", &i)
		if i == n-1 {
			return nil
		}
		next := c.FindDevice(platform.Name, fmt.Sprintf("link.%d", i+1))
		if next == nil || next.State() != device.StateBound {
			return device.ErrProbeDefer
		}
		return nil
	}}))
	for i := range n {
		require.NoError(t, c.RegisterDevice(platform.NewDevice(b, fmt.Sprintf("link.%d", i))))
	}
}

func TestDeferredTimeoutExtendedByDriverRegister(t *testing.T) {
	c, b := newCore(t)
	c.SetDeferredProbeTimeout(5 * time.Second)
	require.NoError(t, c.RegisterDriver(platform.NewDriver("never", func(*device.Device) error { return device.ErrProbeDefer }, nil)))
	dev := platform.NewDevice(b, "never")
	require.NoError(t, c.RegisterDevice(dev))
	c.Advance(4 * time.Second)
	require.NoError(t, c.RegisterDriver(platform.NewDriver("late", nil, nil))) // extends to 9 s
	c.Advance(4 * time.Second)
	require.False(t, c.DeferredTimedOut())
	assert.Equal(t, 8*time.Second, c.Now())
	require.ErrorIs(t, c.DeferredProbeCheckState(dev), device.ErrProbeDefer)
	c.Advance(time.Second)
	require.True(t, c.DeferredTimedOut())
	require.ErrorIs(t, c.DeferredProbeCheckState(dev), device.ErrTimedOut)
	// A mandatory dependency keeps deferring after the timeout.
	assert.Equal(t, []*device.Device{dev}, c.DeferredDevices())
	// Disabled timeout never fires.
	c2, b2 := newCore(t)
	c2.SetDeferredProbeTimeout(0)
	require.NoError(t, c2.RegisterDriver(platform.NewDriver("never", func(*device.Device) error { return device.ErrProbeDefer }, nil)))
	require.NoError(t, c2.RegisterDevice(platform.NewDevice(b2, "never")))
	c2.Advance(time.Hour)
	assert.False(t, c2.DeferredTimedOut())
	assert.Len(t, c2.DeferredDevices(), 1)
	// Explicit firing: the device is retried and stays pending.
	seq := c2.Log().Seq()
	c2.TimeoutDeferred()
	assert.True(t, c2.DeferredTimedOut())
	assert.Len(t, c2.DeferredDevices(), 1)
	assert.Contains(t, trace.Shorts(c2.Log().Since(seq)), "deferred_probe_timeout_work_func /sys/devices/platform/never: deferred probe pending")
}

func TestFlushDeferredRetries(t *testing.T) {
	c, b := newCore(t)
	ready := false
	require.NoError(t, c.RegisterDriver(platform.NewDriver("fw", func(*device.Device) error {
		if !ready {
			return device.ErrProbeDefer
		}
		return nil
	}, nil)))
	dev := platform.NewDevice(b, "fw")
	require.NoError(t, c.RegisterDevice(dev))
	require.Nil(t, dev.Driver())
	ready = true // firmware appeared without any bind
	seq := c.Log().Seq()
	c.FlushDeferred()
	require.Equal(t, "fw", dev.DriverName())
	assert.Equal(t, []string{"driver_deferred_probe_trigger", "deferred_probe_work_func", "really_probe",
		"bus_notify", "call_driver_probe", "driver_bound", "bus_notify", "kobject_uevent"},
		funcs(c.Log(), seq))
}

func TestDeviceDelOfDeferredDevice(t *testing.T) {
	c, b := newCore(t)
	require.NoError(t, c.RegisterDriver(platform.NewDriver("d", func(*device.Device) error { return device.ErrProbeDefer }, nil)))
	dev := platform.NewDevice(b, "d")
	require.NoError(t, c.RegisterDevice(dev))
	require.Len(t, c.DeferredDevices(), 1)
	require.NoError(t, c.UnregisterDevice(dev))
	require.Empty(t, c.DeferredDevices())
	require.True(t, dev.Released())
}

func TestActionStrings(t *testing.T) {
	assert.Equal(t, "BUS_NOTIFY_DRIVER_NOT_BOUND", bus.NotifyDriverNotBound.String())
	assert.Equal(t, "BUS_NOTIFY_99", bus.Action(99).String())
	c, _ := newCore(t)
	_, err := c.RegisterNotifier("nosuch", func(bus.Action, *device.Device) {})
	require.ErrorIs(t, err, device.ErrNoEntry)
	_, err = c.RegisterNotifier(platform.Name, nil)
	require.ErrorIs(t, err, device.ErrInvalid)
}

// driver_register extends a pending deferred-probe timeout only after
// driver_attach: a timeout that falls due while the new driver's probes run
// (a probe that sleeps) still fires.
func TestDeferredTimeoutExtendedAfterDriverAttach(t *testing.T) {
	c, b := newCore(t)
	c.SetDeferredProbeTimeout(5 * time.Second)
	require.NoError(t, c.RegisterDriver(platform.NewDriver("never", func(*device.Device) error { return device.ErrProbeDefer }, nil)))
	require.NoError(t, c.RegisterDevice(platform.NewDevice(b, "never")))
	require.NoError(t, c.RegisterDevice(platform.NewDevice(b, "slow")))
	c.Advance(4 * time.Second)
	require.NoError(t, c.RegisterDriver(platform.NewDriver("slow", func(*device.Device) error {
		c.Advance(2 * time.Second) // msleep in probe: the timer fires meanwhile
		return nil
	}, nil)))
	assert.True(t, c.DeferredTimedOut())
}

package bus_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// A panicking driver callback is an oops: reported, and the machine goes
// on. These tests run on real goroutines (the plain environment), where
// the report is kept and the caller carries on, and on the simulator,
// where the oops fails the run once the core has left the machine
// consistent.

type nilDeref struct{ x int }

// crash dereferences a nil pointer, as a buggy probe would.
func crash() int {
	var p *nilDeref
	return p.x
}

func oopses(t *testing.T, e *env.Env) []*env.Report {
	t.Helper()
	kept, _ := e.Reports()
	var out []*env.Report
	for _, r := range kept {
		if r.Kind == env.BugPanic {
			out = append(out, r)
		}
	}
	return out
}

func oopsEvents(l *trace.Log) []trace.Event {
	return trace.Filter(l.Events(), trace.OfKind(trace.Oops))
}

// A probe that dereferences nil after taking a devm action: the probe
// fails, its devres is released, the device lock is free, and the device
// can be bound by another driver and unregistered as usual.
func TestProbeOopsIsAFailedProbe(t *testing.T) {
	c, b := newCore(t)
	released := 0
	bad := platform.NewDriver("buggy", func(dev *device.Device) error {
		if _, err := dev.Devres().Add("buggy_clk", func() { released++ }); err != nil {
			return err
		}
		return errors.New("unreachable: " + string(rune(crash())))
	}, nil)
	require.NoError(t, c.RegisterDriver(bad))
	dev := platform.NewDevice(b, "buggy", device.WithRelease(func(*device.Device) {}))
	require.NoError(t, c.RegisterDevice(dev), "device_add succeeds; the probe failed")

	assert.Equal(t, device.StateAdded, dev.State())
	assert.Nil(t, dev.Driver())
	assert.False(t, dev.Locked(), "the device lock is released")
	assert.True(t, dev.Devres().Empty())
	assert.Equal(t, 1, released, "the action taken before the oops ran")

	evs := oopsEvents(c.Log())
	require.Len(t, evs, 1)
	assert.Equal(t, "call_driver_probe", evs[0].Func)
	assert.Equal(t, dev.Path(), evs[0].Dev)
	assert.True(t, strings.HasPrefix(evs[0].Msg, "BUG: kernel NULL pointer dereference in probe of driver buggy: Oops [#1]: runtime error"), evs[0].Msg)
	assert.NotContains(t, evs[0].String(), "\n")
	assert.True(t, hasEvent(c.Log().Events(), "call_driver_probe", "ret=Oops: probe failed (it oopsed)"))

	reps := oopses(t, c.Env())
	require.Len(t, reps, 1)
	assert.ErrorIs(t, reps[0], env.ErrOops)
	var re runtime.Error
	assert.ErrorAs(t, reps[0], &re, "the panic value is wrapped")
	assert.Contains(t, reps[0].Details, "driver: buggy")
	assert.Contains(t, reps[0].Details, "oops_test.go", "the call trace starts at the panic")

	// A manual bind gives the oops as the probe's error.
	err := c.Bind(dev, "buggy")
	require.ErrorIs(t, err, env.ErrOops)
	var o *env.Oops
	require.ErrorAs(t, err, &o)
	assert.Equal(t, 2, o.N)
	assert.Equal(t, "probe", o.Callback)
	assert.Equal(t, "buggy", o.Driver)

	// The machine goes on: a good driver binds the device, which then
	// unregisters normally.
	require.NoError(t, c.UnregisterDriver(bad))
	good := platform.NewDriver("buggy", func(*device.Device) error { return nil }, nil)
	require.NoError(t, c.RegisterDriver(good))
	assert.Equal(t, device.StateBound, dev.State())
	require.NoError(t, c.UnregisterDevice(dev))
	assert.True(t, dev.Released())
}

// A panic whose value is the driver's own error: errors.Is sees both the
// oops and the driver's error; the title is the kernel's BUG() line.
func TestProbeOopsWrapsPanicValue(t *testing.T) {
	c, b := newCore(t)
	mine := errors.New("my driver's invariant")
	require.NoError(t, c.RegisterDriver(platform.NewDriver("bugon", func(*device.Device) error { panic(mine) }, nil)))
	dev := platform.NewDevice(b, "bugon", device.WithRelease(func(*device.Device) {}))
	require.NoError(t, c.RegisterDevice(dev))
	err := c.Bind(dev, "bugon")
	assert.ErrorIs(t, err, env.ErrOops)
	assert.ErrorIs(t, err, mine)
	assert.Regexp(t, `^kernel BUG at oops_test\.go:\d+! in probe of driver bugon: Oops \[#2\]: my driver's invariant$`, err.Error())
	require.NoError(t, c.UnregisterDevice(dev))
}

// A remove that panics: the unbind completes (devres released, driver
// cleared, lock free) and the oops is reported; the device can be bound
// again and deleted.
func TestRemoveOopsUnbindCompletes(t *testing.T) {
	c, b := newCore(t)
	released := 0
	removes := 0
	drv := platform.NewDriver("rm", func(dev *device.Device) error {
		_, err := dev.Devres().Add("rm_res", func() { released++ })
		return err
	}, func(*device.Device) {
		removes++
		if removes == 1 {
			crash()
		}
	})
	require.NoError(t, c.RegisterDriver(drv))
	dev := platform.NewDevice(b, "rm", device.WithRelease(func(*device.Device) {}))
	require.NoError(t, c.RegisterDevice(dev))
	require.NoError(t, c.Unbind(dev))
	assert.Equal(t, device.StateAdded, dev.State())
	assert.Nil(t, dev.Driver())
	assert.False(t, dev.Locked())
	assert.Equal(t, 1, released)
	require.Len(t, oopses(t, c.Env()), 1)
	ev := oopsEvents(c.Log())
	require.Len(t, ev, 1)
	assert.Equal(t, "device_remove", ev[0].Func)

	ok, err := c.Attach(dev)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, c.UnregisterDevice(dev))
	assert.Equal(t, 2, removes)
	assert.Equal(t, 2, released)
}

// One devres action panics during the unbind: the actions after it (older
// ones) still run, the device still unbinds.
func TestDevresActionOopsOthersStillRun(t *testing.T) {
	c, b := newCore(t)
	var ran []string
	drv := platform.NewDriver("res", func(dev *device.Device) error {
		for _, n := range []string{"a", "b", "c"} {
			if _, err := dev.Devres().Add(n, func() {
				ran = append(ran, n)
				if n == "b" {
					crash()
				}
			}); err != nil {
				return err
			}
		}
		return nil
	}, nil)
	require.NoError(t, c.RegisterDriver(drv))
	dev := platform.NewDevice(b, "res", device.WithRelease(func(*device.Device) {}))
	require.NoError(t, c.RegisterDevice(dev))
	require.NoError(t, c.UnregisterDevice(dev))
	assert.Equal(t, []string{"c", "b", "a"}, ran)
	assert.Equal(t, device.StateRemoved, dev.State())
	assert.True(t, dev.Released())
	reps := oopses(t, c.Env())
	require.Len(t, reps, 1)
	assert.Contains(t, reps[0].Title, "in devres action b")
}

// Shutdown, notifier, match and uevent callbacks that panic are oopses
// too; each walk goes on.
func TestOtherCallbackOopses(t *testing.T) {
	c := bus.NewCore(nil)
	defer c.Close()
	b := &bus.Bus{
		Name: "quirky",
		Match: func(dev *device.Device, drv *driver.Driver) bool {
			if dev.Name() == "badmatch" {
				crash()
			}
			return true
		},
		Uevent: func(dev *device.Device) []string {
			if dev.Name() == "badevent" {
				crash()
			}
			return []string{"OK=1"}
		},
	}
	require.NoError(t, c.RegisterBus(b))
	notified := 0
	_, err := c.RegisterNotifier("quirky", func(a bus.Action, dev *device.Device) {
		if a == bus.NotifyAddDevice && dev.Name() == "badmatch" {
			crash()
		}
	})
	require.NoError(t, err)
	_, err = c.RegisterNotifier("quirky", func(bus.Action, *device.Device) { notified++ })
	require.NoError(t, err)
	shut := 0
	drv := &driver.Driver{Name: "q", Bus: "quirky", Shutdown: func(dev *device.Device) {
		shut++
		if dev.Name() == "badevent" {
			crash()
		}
	}}
	require.NoError(t, c.RegisterDriver(drv))
	var devs []*device.Device
	for _, n := range []string{"badmatch", "badevent", "fine"} {
		d := device.New(n, device.WithBus(b), device.WithRelease(func(*device.Device) {}))
		require.NoError(t, c.RegisterDevice(d))
		devs = append(devs, d)
	}
	assert.Nil(t, devs[0].Driver(), "a match that oopses matches nothing")
	assert.NotNil(t, devs[1].Driver())
	assert.Positive(t, notified, "the notifier after the one that oopsed still runs")
	c.Shutdown()
	assert.Equal(t, 2, shut, "shutdown walks on after an oops")
	var what []string
	for _, r := range oopses(t, c.Env()) {
		what = append(what, r.Err.(*env.Oops).Callback)
	}
	assert.Equal(t, []string{"bus notifier BUS_NOTIFY_ADD_DEVICE", "match", "uevent", "uevent", "shutdown"}, what)
	for _, d := range devs {
		assert.False(t, d.Locked())
	}
	for _, d := range devs {
		require.NoError(t, c.UnregisterDevice(d))
	}
}

// An asynchronous probe that panics on the worker goroutine: the worker
// survives and runs the next job.
func TestAsyncProbeOopsWorkerSurvives(t *testing.T) {
	c, b := newCore(t)
	drv := platform.NewDriver("async", func(dev *device.Device) error {
		if dev.Name() == "async.0" {
			crash()
		}
		return nil
	}, nil)
	drv.ProbeType = driver.ProbePreferAsynchronous
	require.NoError(t, c.RegisterDriver(drv))
	d0 := platform.NewDevice(b, "async.0", device.WithRelease(func(*device.Device) {}))
	d1 := platform.NewDevice(b, "async.1", device.WithRelease(func(*device.Device) {}))
	require.NoError(t, c.RegisterDevice(d0))
	require.NoError(t, c.RegisterDevice(d1))
	c.WaitForProbes()
	assert.Nil(t, d0.Driver())
	assert.Equal(t, device.StateBound, d1.State())
	assert.Len(t, oopses(t, c.Env()), 1)
	require.NoError(t, c.UnregisterDevice(d0))
	require.NoError(t, c.UnregisterDevice(d1))
}

// Under the simulator an oops fails the run with a BugPanic report, but
// only after the core has unwound: the probe's devres is released and the
// device lock is free when the run ends. The async-probe task case and
// the synchronous one.
func TestOopsFailsSimulatedRunMachineConsistent(t *testing.T) {
	for _, async := range []bool{false, true} {
		name := "sync"
		if async {
			name = "async"
		}
		t.Run(name, func(t *testing.T) {
			var sc simCores
			var dev *device.Device
			released := 0
			res := sim.Run(sim.Config{Mode: sim.Exhaustive}, func(s *sim.Sim) {
				c, b := sc.new(t, s)
				drv := platform.NewDriver("buggy", func(dev *device.Device) error {
					_, err := dev.Devres().Add("clk", func() { released++ })
					if err != nil {
						return err
					}
					crash()
					return nil
				}, nil)
				if async {
					drv.ProbeType = driver.ProbePreferAsynchronous
				}
				if err := c.RegisterDriver(drv); err != nil {
					panic(err)
				}
				dev = platform.NewDevice(b, "buggy", device.WithRelease(func(*device.Device) {}))
				s.Go("plug", func() {
					if err := c.RegisterDevice(dev); err != nil {
						panic(err)
					}
				})
			})
			require.NotNil(t, res.Failure, "the oops fails the run")
			assert.Equal(t, sim.BugPanic, res.Failure.Kind)
			assert.ErrorIs(t, res.Failure, env.ErrOops)
			assert.Contains(t, res.Failure.Title, "BUG: kernel NULL pointer dereference in probe of driver buggy")
			assert.Equal(t, 1, released, "devres was released before the run failed")
			assert.False(t, dev.Locked())
			assert.Nil(t, dev.Driver())
			evs := res.Events
			oops := indexOf(evs, "call_driver_probe", "Oops [#1]")
			rel := indexOf(evs, "devres_release_all", "")
			fail := indexOf(evs, "sim", "BUG: kernel NULL pointer dereference")
			require.True(t, oops >= 0 && rel > oops && fail > rel, "oops %d, release %d, failure %d", oops, rel, fail)
		})
	}
}

func indexOf(evs []trace.Event, fn, msgPart string) int {
	for i, e := range evs {
		if e.Func == fn && strings.Contains(e.Msg, msgPart) {
			return i
		}
	}
	return -1
}

// Many goroutines bind and unbind devices whose probes oops at random
// while others bind normally: nothing wedges.
func TestConcurrentOopsesDoNotWedge(t *testing.T) {
	c, b := newCore(t)
	require.NoError(t, c.RegisterDriver(platform.NewDriver("flaky", func(dev *device.Device) error {
		if strings.HasSuffix(dev.Name(), "3") {
			crash()
		}
		return nil
	}, func(dev *device.Device) {
		if strings.HasSuffix(dev.Name(), "1") {
			crash()
		}
	})))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				d := platform.NewDevice(b, fmt.Sprintf("flaky.%d", g*100+i), device.WithRelease(func(*device.Device) {}))
				if !assert.NoError(t, c.RegisterDevice(d)) {
					continue
				}
				_ = c.Unbind(d)
				_, _ = c.Attach(d)
				assert.NoError(t, c.UnregisterDevice(d))
			}
		}()
	}
	wg.Wait()
	assert.Empty(t, c.BusDevices(platform.Name))
	assert.NotEmpty(t, oopses(t, c.Env()))
}

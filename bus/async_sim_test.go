package bus_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/lifecycle"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// Asynchronous probe under the explorer: with a sim.Sim as the Core's
// scheduler, every asynchronous probe runs as a task named async_probe,
// so the explorer interleaves it with device removal, driver unregister
// and the other lifecycle operations, and replays any interleaving.

// simCores collects the Cores a scenario builds (one per schedule) so the
// test can Close them (stopping their worker goroutines) at the end.
type simCores struct {
	mu    sync.Mutex
	cores []*bus.Core
}

func (sc *simCores) new(t *testing.T, s *sim.Sim) (*bus.Core, *bus.Bus) {
	t.Helper()
	c := bus.NewCore(s.Env())
	sc.mu.Lock()
	if sc.cores == nil {
		t.Cleanup(sc.closeAll)
	}
	sc.cores = append(sc.cores, c)
	sc.mu.Unlock()
	b := platform.NewBus()
	if err := c.RegisterBus(b); err != nil {
		panic(err)
	}
	return c, b
}

func (sc *simCores) closeAll() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for _, c := range sc.cores {
		c.Close()
	}
	sc.cores = nil
}

// wifi is an asynchronous driver whose probe takes a devm action and whose
// remove is counted, so a run can check that every probe was undone.
type wifi struct {
	probes, removes, released int
}

func (w *wifi) driver() *driver.Driver {
	return &driver.Driver{Name: "wifi", Bus: platform.Name, ProbeType: driver.ProbePreferAsynchronous,
		Probe: func(dev *device.Device) error {
			w.probes++
			_, err := dev.Devres().AddOrReset("wifi_power_off", func() { w.released++ })
			return err
		},
		Remove: func(*device.Device) { w.removes++ },
	}
}

func hasEvent(events []trace.Event, fn, msgPart string) bool {
	for _, e := range events {
		if e.Func == fn && strings.Contains(e.Msg, msgPart) {
			return true
		}
	}
	return false
}

// The race scenarios, asynchronous probe against device_del and against
// driver_unregister, are package lifecycle's: their end-of-run checks fail
// a run unless the device ends consistent and every probe is undone, and
// their Outcomes count which ending each run had.

// exploreEndings explores scenario exhaustively (at most 2 preemptions):
// no schedule may fail. Unless DRVSIM_SCHEDULE replays one schedule, the
// search must cover the whole space, in more than one schedule, and reach
// every one of endings.
func exploreEndings(t *testing.T, scenario func(*lifecycle.Outcomes) func(*sim.Sim), endings ...lifecycle.Ending) {
	t.Helper()
	o := &lifecycle.Outcomes{}
	defer o.Close()
	cfg := sim.EnvConfig(t.Name(), 0)
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 2000, Config: cfg}, scenario(o))
	require.False(t, res.Failed(), res.String())
	if cfg.Replay != nil {
		return // DRVSIM_SCHEDULE replays one schedule
	}
	assert.True(t, res.Exhausted, res.String())
	assert.Greater(t, res.Schedules, 1)
	for _, e := range endings {
		assert.Positive(t, o.Count(e), "%s: %s", e, o)
	}
	for e := range o.Counts() {
		assert.Contains(t, endings, e, "a run ended in a way not predicted: %s", o)
	}
	t.Logf("%s outcomes: %s", strings.TrimSpace(res.String()), o)
}

// The probe either ran and was undone by device_del, or was skipped
// because the device was dead.
func TestAsyncProbeVsDeviceRemoval(t *testing.T) {
	exploreEndings(t, lifecycle.AsyncProbeVsRemoval, lifecycle.ProbedThenDeleted, lifecycle.SkippedDeviceDead)
}

// The asynchronous probe is queued during setup by device_add (driver
// registered first: __device_attach_async_helper) or by driver_register
// (device added first: __driver_attach_async_helper); the rmmod task
// unregisters the driver. __device_attach_async_helper walks the bus's
// drivers, so it either probed and the device was detached, or found the
// driver gone; __driver_attach_async_helper probes the driver queued on
// the device whether the driver is still on the bus or not, and
// driver_detach's async_synchronize_full waits for it: it always probed,
// and the device was always detached.
func TestAsyncProbeVsDriverUnregister(t *testing.T) {
	t.Run("device_attach_async", func(t *testing.T) {
		exploreEndings(t, lifecycle.AsyncProbeVsUnregister, lifecycle.ProbedThenDetached, lifecycle.NotProbedDriverGone)
	})
	t.Run("driver_attach_async", func(t *testing.T) {
		exploreEndings(t, lifecycle.AsyncAttachVsUnregister, lifecycle.ProbedThenDetached)
	})
}

// The interleaving that needs driver_detach's async_synchronize_full: the
// async probe is preempted inside the driver's probe; rmmod takes the
// driver off the bus and must wait for the probe to finish before walking
// the driver's device list, else the device would stay bound to a driver
// that is gone. This schedule forces it and shows the wait in the trace.
func TestDriverUnregisterWaitsForRunningAsyncProbe(t *testing.T) {
	o := &lifecycle.Outcomes{}
	defer o.Close()
	scenario := lifecycle.AsyncProbeVsUnregister(o)
	// Find a schedule where rmmod waits in async_synchronize_full while
	// the probe binds.
	var found []trace.Event
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 2, Schedules: 2000}, func(s *sim.Sim) {
		scenario(s)
		s.AddLeakCheck("find", func() []string {
			ev := s.Log().Events()
			if found == nil && hasEvent(ev, "async_synchronize_full", "waiting for asynchronous probes") &&
				hasEvent(ev, "driver_bound", "") {
				found = ev
			}
			return nil
		})
	})
	require.False(t, res.Failed(), res.String())
	require.NotNil(t, found, "no schedule with rmmod waiting for a running probe")
	text := trace.Text(found)
	// The wait is followed by the probe binding, then by driver_detach
	// unbinding the device.
	wait := strings.Index(text, "async_synchronize_full")
	bound := strings.Index(text[wait:], "driver_bound")
	unbind := strings.Index(text[wait:], "__device_release_driver")
	require.Positive(t, bound, text)
	require.Greater(t, unbind, bound, text)
}

// Without async_probe tasks the explorer would see a single schedule: the
// probe would sit on the Core's worker goroutine, outside the Sim. This
// checks that the probe runs as a task, is stamped as such in the trace and
// that the explorer interleaves it with unplug.
func TestAsyncProbeRunsAsSimTask(t *testing.T) {
	o := &lifecycle.Outcomes{}
	defer o.Close()
	var schedulesWithAsyncFirst, schedulesWithUnplugFirst int
	var traceText string
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 1}, func(s *sim.Sim) {
		lifecycle.AsyncProbeVsRemoval(o)(s)
		s.AddLeakCheck("order", func() []string {
			for _, e := range s.Log().Events() {
				if e.Kind == trace.Sched && e.Func == "schedule" && strings.HasPrefix(e.Msg, "start -> ") {
					switch strings.TrimPrefix(e.Msg, "start -> ") {
					case "async_probe":
						schedulesWithAsyncFirst++
						if traceText == "" {
							traceText = s.Log().String()
						}
					case "unplug":
						schedulesWithUnplugFirst++
					}
				}
			}
			return nil
		})
	})
	require.False(t, res.Failed(), res.String())
	assert.Greater(t, res.Schedules, 1)
	assert.Positive(t, schedulesWithAsyncFirst)
	assert.Positive(t, schedulesWithUnplugFirst)
	assert.Contains(t, traceText, "wake_up_new_task: async_probe")
	assert.Contains(t, traceText, "[async_probe] __device_attach_async_helper /sys/devices/platform/wifi")
	assert.Contains(t, traceText, "[async_probe] call_driver_probe /sys/devices/platform/wifi: driver=wifi ret=0")
}

// The same seed gives the same schedule and trace, byte for byte; a
// recorded schedule replays exactly.
func TestAsyncProbeSameSeedSameTrace(t *testing.T) {
	o := &lifecycle.Outcomes{}
	defer o.Close()
	scenario := lifecycle.AsyncProbeVsRemoval(o)
	seen := map[string]bool{}
	for seed := uint64(0); seed < 8; seed++ {
		a := sim.Run(sim.Config{Seed: seed}, scenario)
		b := sim.Run(sim.Config{Seed: seed}, scenario)
		require.False(t, a.Failed(), a.String())
		require.Equal(t, a.TraceText(), b.TraceText(), "seed %d", seed)
		require.Equal(t, a.ScheduleText(), b.ScheduleText(), "seed %d", seed)
		replay := sim.Run(sim.Config{Replay: a.Schedule()}, scenario)
		require.False(t, replay.Failed(), replay.String())
		require.Equal(t, a.TraceText(), replay.TraceText(), "seed %d replayed", seed)
		seen[a.TraceText()] = true
	}
	assert.Greater(t, len(seen), 1, "eight seeds should give more than one interleaving")
}

// wait_for_device_probe from a probe deadlocks when an asynchronous probe
// needs the lock the caller holds; under the Sim the run fails with a
// deadlock report whose wait-for chain names the async_probe task.
func TestWaitForProbesFromProbeDeadlocks(t *testing.T) {
	sc := &simCores{}
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.EnvConfig(t.Name(), 0)}, func(s *sim.Sim) {
		c, _ := sc.new(t, s)
		anyBus := &bus.Bus{Name: "any"} // nil Match: every driver matches every device
		if err := c.RegisterBus(anyBus); err != nil {
			panic(err)
		}
		if err := c.RegisterDriver(&driver.Driver{Name: "slow", Bus: "any", ProbeType: driver.ProbePreferAsynchronous}); err != nil {
			panic(err)
		}
		dev := device.New("d0", device.WithBus(anyBus), device.WithRelease(func(*device.Device) {}))
		if err := c.RegisterDevice(dev); err != nil { // queues the async probe
			panic(err)
		}
		s.Go("modprobe", func() {
			// A synchronous driver whose probe waits for all probes, with
			// d0's lock held by driver_attach.
			_ = c.RegisterDriver(&driver.Driver{Name: "waiter", Bus: "any", Probe: func(*device.Device) error {
				c.WaitForProbes()
				return nil
			}})
		})
	})
	require.True(t, res.Failed(), res.String())
	rep := res.Failure.Failure
	assert.Equal(t, sim.BugDeadlock, rep.Kind)
	assert.Contains(t, rep.Details, "INFO: task modprobe blocked on wait_for_device_probe")
	assert.Contains(t, rep.Details, "INFO: task async_probe blocked on device_lock /sys/devices/d0, held by modprobe")
}

// A run that fails before the async_probe task ever ran abandons the job:
// the reference it held is put back and nothing is left pending, so
// WaitForProbes after the run returns.
func TestAsyncProbeAbandonedByFailedRun(t *testing.T) {
	sc := &simCores{}
	var c *bus.Core
	var dev *device.Device
	res := sim.Run(sim.Config{Mode: sim.Exhaustive}, func(s *sim.Sim) {
		s.Go("boom", func() { panic("boom") }) // created first: runs first
		var b *bus.Bus
		c, b = sc.new(t, s)
		if err := c.RegisterDriver((&wifi{}).driver()); err != nil {
			panic(err)
		}
		dev = platform.NewDevice(b, "wifi")
		if err := c.RegisterDevice(dev); err != nil {
			panic(err)
		}
		require.EqualValues(t, 2, dev.Refs(), "the queued probe holds a reference")
	})
	require.True(t, res.Failed())
	assert.Equal(t, sim.BugPanic, res.Failure.Kind)
	assert.Contains(t, res.TraceText(), "asynchronous probe abandoned: the run ended before its task ran")
	assert.EqualValues(t, 1, dev.Refs())
	assert.Nil(t, dev.Driver())
	c.WaitForProbes() // nothing pending: returns
}

// Setup code cannot wait for asynchronous probes: their tasks only run once
// the run starts. The run fails with the reason instead of hanging.
func TestWaitForProbesFromSetupFailsTheRun(t *testing.T) {
	sc := &simCores{}
	res := sim.Run(sim.Config{}, func(s *sim.Sim) {
		c, b := sc.new(t, s)
		if err := c.RegisterDriver((&wifi{}).driver()); err != nil {
			panic(err)
		}
		if err := c.RegisterDevice(platform.NewDevice(b, "wifi")); err != nil {
			panic(err)
		}
		c.WaitForProbes()
	})
	require.True(t, res.Failed())
	assert.Equal(t, sim.BugPanic, res.Failure.Kind)
	assert.Contains(t, res.Failure.Title, "wait_for_device_probe")
	assert.Contains(t, res.TraceText(), "asynchronous probe abandoned")
}

// device_shutdown against asynchronous probes. Shutdown first waits
// (through the Sim) for the async_probe task queued during setup, so that
// device is always probed and then shut down. A device hot-plugged while
// the system goes down either probes before probing is blocked, and is then
// shut down, or defers; it is never left bound without its shutdown.
func TestAsyncProbeVsShutdown(t *testing.T) {
	sc := &simCores{}
	outcomes := map[string]int{}
	waited := false
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, MaxPreemptions: 2, Config: sim.EnvConfig(t.Name(), 0)}, func(s *sim.Sim) {
		c, b := sc.new(t, s)
		w := &wifi{}
		drv := w.driver()
		shut := map[string]int{}
		drv.Shutdown = func(d *device.Device) { shut[d.Name()]++ }
		if err := c.RegisterDriver(drv); err != nil {
			panic(err)
		}
		dev := platform.NewDevice(b, "wifi")
		if err := c.RegisterDevice(dev); err != nil {
			panic(err)
		}
		late := platform.NewDevice(b, "wifi.1")
		s.Go("reboot", c.Shutdown)
		s.Go("hotplug", func() {
			if err := c.RegisterDevice(late); err != nil {
				panic(err)
			}
		})
		s.AddLeakCheck("shutdown", func() []string {
			if strings.Contains(s.Log().String(), "schedule: block wait_for_device_probe -> async_probe") {
				waited = true
			}
			if dev.Driver() == nil || shut["wifi"] != 1 {
				return []string{fmt.Sprintf("queued probe: bound=%v, %d shutdowns", dev.Driver() != nil, shut["wifi"])}
			}
			switch {
			case late.Driver() != nil && shut["wifi.1"] == 1:
				outcomes["hot-plugged device probed, then shut down"]++
			case late.Driver() == nil && shut["wifi.1"] == 0 && len(c.DeferredDevices()) == 1:
				outcomes["hot-plugged device deferred: probing blocked"]++
			default:
				return []string{fmt.Sprintf("hot-plugged device: bound=%v, %d shutdowns, %d deferred", late.Driver() != nil, shut["wifi.1"], len(c.DeferredDevices()))}
			}
			return nil
		})
	})
	require.False(t, res.Failed(), res.String())
	if sch, _ := sim.ScheduleFromEnv(); sch != nil {
		return
	}
	assert.True(t, res.Exhausted)
	assert.True(t, waited, "some schedule should have Shutdown wait for the async probe")
	assert.Positive(t, outcomes["hot-plugged device probed, then shut down"], outcomes)
	assert.Positive(t, outcomes["hot-plugged device deferred: probing blocked"], outcomes)
}

// Close before the async_probe task runs: the task drops its probe, as
// Close drops the worker goroutine's queue, and puts its reference.
func TestAsyncProbeTaskAfterCloseDrops(t *testing.T) {
	sc := &simCores{}
	var dev *device.Device
	res := sim.Run(sim.Config{Mode: sim.Exhaustive}, func(s *sim.Sim) {
		c, b := sc.new(t, s)
		if err := c.RegisterDriver((&wifi{}).driver()); err != nil {
			panic(err)
		}
		s.Go("teardown", c.Close) // created first: runs first
		dev = platform.NewDevice(b, "wifi")
		if err := c.RegisterDevice(dev); err != nil {
			panic(err)
		}
	})
	require.False(t, res.Failed(), res.String())
	assert.Contains(t, res.TraceText(), "[async_probe] async_synchronize_full /sys/devices/platform/wifi: asynchronous probe dropped at Close")
	assert.EqualValues(t, 1, dev.Refs())
	assert.Nil(t, dev.Driver())
}

// Once the run is over the Sim starts no more tasks: asynchronous probes
// queued then go back to the worker goroutine, and WaitForProbes runs them.
func TestAsyncProbeAfterRunUsesWorker(t *testing.T) {
	sc := &simCores{}
	var c *bus.Core
	var b *bus.Bus
	res := sim.Run(sim.Config{}, func(s *sim.Sim) {
		c, b = sc.new(t, s)
		if err := c.RegisterDriver((&wifi{}).driver()); err != nil {
			panic(err)
		}
	})
	require.False(t, res.Failed(), res.String())
	dev := platform.NewDevice(b, "wifi")
	require.NoError(t, c.RegisterDevice(dev))
	c.WaitForProbes()
	assert.Equal(t, "wifi", dev.DriverName())
	assert.EqualValues(t, 1, dev.Refs())
	assert.Equal(t, 1, strings.Count(c.Log().String(), "scheduling asynchronous probe"), "announced once")
	require.NoError(t, c.UnregisterDevice(dev))
}

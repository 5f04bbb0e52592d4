package bus_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// driver_unregister racing a synchronous probe of the same driver: the
// unregistration waits for the probe in flight (the kernel's klist_remove
// of the driver's bus node), so the device never stays bound to a driver
// that is gone.

// On real goroutines: the probe blocks until released; UnregisterDriver,
// started meanwhile, must wait (its trace says so) and the device must end
// unbound, with the probe undone by remove and devres.
func TestUnregisterDriverWaitsForSyncProbe(t *testing.T) {
	c, b := newCore(t)
	inProbe := make(chan struct{})
	release := make(chan struct{})
	removes, freed := 0, 0
	drv := platform.NewDriver("slow", func(dev *device.Device) error {
		close(inProbe)
		<-release
		_, err := dev.Devres().Add("slow_res", func() { freed++ })
		return err
	}, func(*device.Device) { removes++ })
	require.NoError(t, c.RegisterDriver(drv))
	dev := platform.NewDevice(b, "slow", device.WithRelease(func(*device.Device) {}))

	waiting := make(chan struct{}, 1)
	cancel := c.Log().Subscribe(func(e trace.Event) {
		if e.Func == "bus_remove_driver" && strings.Contains(e.Msg, "waiting for 1 probes in flight") {
			waiting <- struct{}{}
		}
	})
	defer cancel()

	registered := make(chan error, 1)
	go func() { registered <- c.RegisterDevice(dev) }()
	<-inProbe
	unregistered := make(chan error, 1)
	go func() { unregistered <- c.UnregisterDriver(drv) }()
	select {
	case <-waiting:
	case err := <-unregistered:
		t.Fatalf("UnregisterDriver returned (%v) while a probe of the driver was in flight", err)
	}
	close(release)
	require.NoError(t, <-registered)
	require.NoError(t, <-unregistered)

	assert.Nil(t, dev.Driver(), "bound to a driver that is gone")
	assert.Equal(t, device.StateAdded, dev.State())
	assert.Equal(t, 1, removes, "driver_detach undid the probe")
	assert.Equal(t, 1, freed)
	assert.True(t, dev.Devres().Empty())
	require.NoError(t, c.UnregisterDevice(dev))
}

// A driver unregistering itself from inside its own probe would wait for
// itself: with lockdep on it gets ErrDeadlock, a warning, and the driver
// stays registered.
func TestUnregisterDriverFromOwnProbe(t *testing.T) {
	c, b := newCore(t)
	var got error
	drv := platform.NewDriver("selfish", nil, nil)
	drv.Probe = func(*device.Device) error {
		got = c.UnregisterDriver(drv)
		return nil
	}
	require.NoError(t, c.RegisterDriver(drv))
	dev := platform.NewDevice(b, "selfish", device.WithRelease(func(*device.Device) {}))
	require.NoError(t, c.RegisterDevice(dev))
	require.ErrorIs(t, got, device.ErrDeadlock)
	assert.Same(t, drv, c.FindDriver(platform.Name, "selfish"))
	assert.Equal(t, device.StateBound, dev.State())
	require.NoError(t, c.UnregisterDriver(drv))
	assert.Nil(t, dev.Driver())
	require.NoError(t, c.UnregisterDevice(dev))
}

// Unregistering a driver twice: the second gives ErrNoEntry and the
// kernel's warning.
func TestUnregisterDriverTwice(t *testing.T) {
	c, _ := newCore(t)
	drv := platform.NewDriver("twice", nil, nil)
	require.NoError(t, c.RegisterDriver(drv))
	require.NoError(t, c.UnregisterDriver(drv))
	require.ErrorIs(t, c.UnregisterDriver(drv), device.ErrNoEntry)
	assert.True(t, hasEvent(c.Log().Events(), "driver_unregister", "Unexpected driver unregister!"))
}

// Every interleaving of a synchronous probe (preempted inside the driver's
// probe) with rmmod: every schedule ends with the device unbound and the
// probe undone, or never probed; never bound to the unregistered driver.
func TestUnregisterDriverVsSyncProbeExhaustive(t *testing.T) {
	var sc simCores
	type run struct {
		dev             *device.Device
		probes, removes int
		freed           int
	}
	endings := map[string]int{}
	res := sim.Explore(sim.ExploreConfig{Config: sim.EnvConfig(t.Name(), 1), Mode: sim.Exhaustive}, func(s *sim.Sim) {
		c, b := sc.new(t, s)
		r := &run{}
		drv := platform.NewDriver("slow", func(dev *device.Device) error {
			r.probes++
			dev.Env().Yield(point("probe_body"))
			_, err := dev.Devres().Add("slow_res", func() { r.freed++ })
			return err
		}, func(*device.Device) { r.removes++ })
		if err := c.RegisterDriver(drv); err != nil {
			panic(err)
		}
		r.dev = platform.NewDevice(b, "slow", device.WithRelease(func(*device.Device) {}))
		s.Go("plug", func() {
			if err := c.RegisterDevice(r.dev); err != nil {
				panic(err)
			}
		})
		s.Go("rmmod", func() {
			if err := c.UnregisterDriver(drv); err != nil {
				panic(err)
			}
		})
		s.AddLeakCheck("slow after rmmod", func() []string {
			var bad []string
			if r.dev.Driver() != nil {
				bad = append(bad, "device bound to "+r.dev.DriverName()+", which is unregistered")
			}
			if r.probes != r.removes || r.freed != r.probes {
				bad = append(bad, "probe not undone")
			}
			if len(bad) == 0 {
				if r.probes == 1 {
					endings["probed, then detached"]++
				} else {
					endings["never probed"]++
				}
			}
			return bad
		})
	})
	require.False(t, res.Failed(), res.String())
	assert.True(t, res.Exhausted)
	assert.Positive(t, endings["probed, then detached"], endings)
	assert.Positive(t, endings["never probed"], endings)
}

// The hung-task detector names a driver unregistration stuck behind a
// probe that never returns, with the wait-for chain to the probing task.
func TestUnregisterDriverStuckBehindProbeIsReported(t *testing.T) {
	e := env.New(env.WithHungTaskTimeout(50*time.Millisecond), env.WithHungTaskPanic(false))
	c, b := newCoreIn(t, e)
	inProbe := make(chan struct{})
	release := make(chan struct{})
	drv := platform.NewDriver("stuck", func(*device.Device) error {
		close(inProbe)
		<-release
		return nil
	}, nil)
	require.NoError(t, c.RegisterDriver(drv))
	dev := platform.NewDevice(b, "stuck", device.WithRelease(func(*device.Device) {}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		assert.NoError(t, c.RegisterDevice(dev))
	}()
	<-inProbe
	unreg := make(chan struct{})
	go func() {
		defer close(unreg)
		assert.NoError(t, c.UnregisterDriver(drv))
	}()
	reps := waitReports(t, e, env.BugHung, 2)
	close(release)
	<-done
	<-unreg
	var probe, unregister *env.Report
	for _, r := range reps {
		switch {
		case strings.Contains(r.Title, "in probe of driver stuck"):
			probe = r
		case strings.Contains(r.Title, "in probe in flight of driver stuck (bus_remove_driver)"):
			unregister = r
		}
	}
	require.NotNil(t, probe, "%v", reps)
	require.NotNil(t, unregister, "%v", reps)
	assert.Contains(t, probe.Details, "[probe of driver stuck on /sys/devices/platform/stuck (call_driver_probe)] (in driver code)")
	assert.Regexp(t, `goroutine \d+ -> \[probe in flight of driver stuck \(bus_remove_driver\)\] -> 1 probes of the driver in flight -> goroutine \d+\n  goroutine \d+ -> \[probe of driver stuck`, unregister.Details)
	require.NoError(t, c.UnregisterDevice(dev))
}

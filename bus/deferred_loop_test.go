package bus_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// loopingParent registers on c a "child" driver that binds anything, and
// a "parent" driver whose probe registers a child device (which binds,
// triggering the deferred list) and then returns -EPROBE_DEFER: the
// pattern Documentation/driver-api/driver-model/driver.rst forbids, which
// loops for ever in the kernel. It returns the parent's probe count.
func loopingParent(c *bus.Core, b *bus.Bus) *int {
	probes := 0
	if err := c.RegisterDriver(platform.NewDriver("child", func(*device.Device) error { return nil }, nil)); err != nil {
		panic(err)
	}
	if err := c.RegisterDriver(platform.NewDriver("parent", func(dev *device.Device) error {
		probes++
		kid := platform.NewDevice(b, fmt.Sprintf("child.%d", probes), device.WithParent(dev), device.WithRelease(func(*device.Device) {}))
		if err := c.RegisterDevice(kid); err != nil {
			return err
		}
		return device.ErrProbeDefer
	}, nil)); err != nil {
		panic(err)
	}
	return &probes
}

// The deferral loop is followed as the kernel would for MaxDeferralLoop
// probes, then reported once (BugLivelock) and cut: the device stays on
// the pending list, and a later trigger retries it once more without
// looping again.
func TestProbeDeferralLoopIsBounded(t *testing.T) {
	c, b := newCore(t)
	probes := loopingParent(c, b)
	parent := platform.NewDevice(b, "parent", device.WithRelease(func(*device.Device) {}))
	require.NoError(t, c.RegisterDevice(parent))
	assert.Equal(t, bus.MaxDeferralLoop, *probes)
	assert.Equal(t, []*device.Device{parent}, c.DeferredDevices())

	kept, _ := c.Env().Reports()
	var loops []*env.Report
	for _, r := range kept {
		if r.Kind == env.BugLivelock {
			loops = append(loops, r)
		}
	}
	require.Len(t, loops, 1)
	assert.Equal(t, "BUG: probe deferral loop: /sys/devices/platform/parent (driver parent)", loops[0].Title)
	warns := trace.Filter(c.Log().Events(), func(e trace.Event) bool {
		return e.Kind == trace.Warn && e.Func == "driver_deferred_probe_trigger"
	})
	require.Len(t, warns, 1)
	assert.Equal(t, "BUG: probe deferral loop: /sys/devices/platform/parent (driver parent)", warns[0].Msg)
	assert.Contains(t, loops[0].Details, "returned -EPROBE_DEFER 10 times in a row after registering a device")

	c.FlushDeferred()
	assert.Equal(t, bus.MaxDeferralLoop+1, *probes, "one more attempt per outside trigger")
	kept, _ = c.Env().Reports()
	n := 0
	for _, r := range kept {
		if r.Kind == env.BugLivelock {
			n++
		}
	}
	assert.Equal(t, 1, n, "reported once")
	require.NoError(t, c.UnregisterTree(parent))
}

// A device that defers with no trigger of its own (an ordinary missing
// supplier) is never taken for a loop, however often it is retried.
func TestOrdinaryDeferralIsNoLoop(t *testing.T) {
	c, b := newCore(t)
	ready := false
	require.NoError(t, c.RegisterDriver(platform.NewDriver("waiter", func(*device.Device) error {
		if !ready {
			return device.ErrProbeDefer
		}
		return nil
	}, nil)))
	dev := platform.NewDevice(b, "waiter", device.WithRelease(func(*device.Device) {}))
	require.NoError(t, c.RegisterDevice(dev))
	for range 3 * bus.MaxDeferralLoop {
		c.FlushDeferred()
	}
	kept, _ := c.Env().Reports()
	assert.Empty(t, kept)
	ready = true
	c.FlushDeferred()
	assert.Equal(t, device.StateBound, dev.State())
	require.NoError(t, c.UnregisterDevice(dev))
}

// Under the simulator the loop fails the run with a livelock report.
func TestProbeDeferralLoopFailsSimulatedRun(t *testing.T) {
	var sc simCores
	res := sim.Run(sim.Config{Mode: sim.Exhaustive}, func(s *sim.Sim) {
		c, b := sc.new(t, s)
		loopingParent(c, b)
		s.Go("plug", func() {
			_ = c.RegisterDevice(platform.NewDevice(b, "parent", device.WithRelease(func(*device.Device) {})))
		})
	})
	require.NotNil(t, res.Failure)
	assert.Equal(t, env.BugLivelock, res.Failure.Kind)
	assert.Contains(t, res.Failure.Title, "probe deferral loop")
}

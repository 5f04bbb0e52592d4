package sim_test

import (
	"testing"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/scenarios"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ecMachine builds a System on s with the platform device ec.0 bound to a
// driver whose probe puts a register block behind a devm provider; p is
// the provider.
func ecMachine(s *sim.Sim) (sys *drvsim.System, dev *device.Device, p **revocable.Provider[env.Object]) {
	sys = drvsim.NewSystem(drvsim.OnSim(s))
	s.Cleanup(sys.Close)
	p = new(*revocable.Provider[env.Object])
	drv := platform.NewDriver("ec", func(dev *device.Device) error {
		regs := s.Alloc("ec_regs")
		if _, err := dev.Devres().Add("ec_regs_free", regs.Free); err != nil {
			return err
		}
		var err error
		*p, err = revocable.DevmProvider(dev, regs, revocable.WithName("ec"))
		return err
	}, nil)
	if err := sys.RegisterDriver(drv); err != nil {
		panic(err)
	}
	dev = sys.NewPlatformDevice("ec.0")
	if err := sys.RegisterDevice(dev); err != nil {
		panic(err)
	}
	return sys, dev, p
}

// A reference taken with get_device and never put keeps a removed device
// from being released: reported with where references were taken.
func TestLeakedDeviceReference(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		sys, dev, _ := ecMachine(s)
		s.Go("holder", func() { dev.Get() }) // never put
		s.Go("unplug", func() {
			if err := sys.UnregisterDevice(dev); err != nil {
				panic(err)
			}
		})
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugLeak, r.Failure.Kind)
	d := r.Failure.Details
	assert.Contains(t, d, "device refs: /sys/devices/platform/ec.0: 1 reference(s) never put after device_del (device_initialize holds the first)\n")
	assert.Contains(t, d, "get_device at: ")
	assert.Contains(t, d, "sim_test.TestLeakedDeviceReference.func1.1 (leak_test.go:")
	t.Log("\n" + r.Failure.String())
}

// devres actions added to a device no driver is bound to are never run
// until its last put_device: reported with where they were added.
func TestDevresOnUnboundDevice(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		sys, dev, _ := ecMachine(s)
		s.Go("unbind", func() {
			if err := sys.Unbind(dev); err != nil {
				panic(err)
			}
			if _, err := dev.Devres().Add("stray_action", func() {}); err != nil {
				panic(err)
			}
		})
	})
	require.True(t, r.Failed())
	d := r.Failure.Details
	assert.Contains(t, d, "devres: /sys/devices/platform/ec.0: 1 action(s) left with no driver bound (released only at the last put_device):\n")
	assert.Contains(t, d, "action stray_action, added by task unbind at trace seq ")
	assert.Contains(t, d, "sim_test.TestDevresOnUnboundDevice.func1.1 (leak_test.go:")
}

// A consumer left open on a provider its device revoked pins the provider
// after the device is gone, as a file never closed would.
func TestConsumerNeverClosed(t *testing.T) {
	scenario := func(s *sim.Sim) {
		sys, dev, p := ecMachine(s)
		c, err := revocable.New(*p) // open(), never released
		if err != nil {
			panic(err)
		}
		s.Go("reader", func() {
			regs, a := c.TryAccess()
			if regs != nil {
				regs.Access("read")
			}
			a.Release()
		})
		s.Go("unplug", func() {
			if err := sys.UnregisterDevice(dev); err != nil {
				panic(err)
			}
		})
	}
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, scenario)
	require.True(t, res.Failed())
	f := res.Reported().Failure
	assert.Equal(t, sim.BugLeak, f.Kind)
	assert.Contains(t, f.Details, "revocable: provider ec: revoked but not released (refs=1): 1 consumer(s) never closed\n"+
		"    consumer opened by task <setup> at trace seq ")
	assert.Contains(t, f.Details, "sim_test.TestConsumerNeverClosed.func1 (leak_test.go:")
	assert.Equal(t, 0, res.Reported().Preemptions)

	// A test opts out of one check and keeps the others.
	off := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.Config{NoLeakChecks: []string{env.LeakRevocable}}}, scenario)
	require.False(t, off.Failed(), off.String())
	assert.True(t, off.Exhausted)
}

// A driver that cleans up passes every check: the registered
// revocable-readers-vs-unregister, every schedule within its bound.
func TestNoLeakWhenEverythingIsPut(t *testing.T) {
	sc, ok := scenarios.Lookup("revocable-readers-vs-unregister")
	require.True(t, ok)
	res := sc.Explore(sc.Config())
	require.False(t, res.Failed(), res.String())
	assert.True(t, res.Exhausted)
}

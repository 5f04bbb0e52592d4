package bus_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// machine is a driver core with a registered platform bus, the machine
// drvsim.NewSystem builds, for the tests that drive the core through
// platform devices and drivers.
type machine struct {
	*bus.Core
	// Platform is the machine's platform bus.
	Platform *bus.Bus
}

// newMachine returns a machine closed when the test ends.
func newMachine(t *testing.T) *machine {
	t.Helper()
	c, b := newCore(t)
	return &machine{Core: c, Platform: b}
}

// newCoreNoCleanup is newCore for a test that closes the core itself.
func newCoreNoCleanup(t *testing.T) (*bus.Core, *bus.Bus) {
	t.Helper()
	c := bus.NewCore(nil)
	b := platform.NewBus()
	require.NoError(t, c.RegisterBus(b))
	return c, b
}

// NewPlatformDevice allocates a platform device on the machine's platform
// bus (platform_device_alloc).
func (m *machine) NewPlatformDevice(name string, opts ...device.Option) *device.Device {
	return platform.NewDevice(m.Platform, name, opts...)
}

// Events returns the recorded trace events.
func (m *machine) Events() []trace.Event { return m.Log().Events() }

// since returns the short form of the events recorded after seq.
func since(m *machine, seq uint64) []string {
	return trace.Shorts(m.Log().Since(seq))
}

// linkEvents keeps the device-link events recorded after seq.
func linkEvents(m *machine, seq uint64) []string {
	return trace.Shorts(trace.Filter(m.Log().Since(seq), trace.OfKind(trace.Link)))
}

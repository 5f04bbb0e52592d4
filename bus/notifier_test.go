package bus_test

// Bus notifiers (bus_register_notifier).

import (
	"testing"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/internal/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bus notifiers see every action in the kernel's order, and none after
// they unregister.
func TestNotifierOrder(t *testing.T) {
	sys := newMachine(t)
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
	golden.Lines(t, "testdata/notifier-order.golden", got)
	unreg()
	require.NoError(t, sys.UnregisterDevice(b))
	assert.Len(t, got, 10)
}

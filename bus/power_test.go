package bus_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
)

// recordingHooks is a PM core that does nothing but note the probe hooks.
type recordingHooks struct{ calls *[]string }

func (h recordingHooks) DeviceAdded(*device.Device)          {}
func (h recordingHooks) DeviceRemoved(*device.Device)        {}
func (h recordingHooks) DeviceMovedLast(*device.Device)      {}
func (h recordingHooks) ProbeBegin(d *device.Device)         { h.note("begin " + d.Name()) }
func (h recordingHooks) ProbeEnd(d *device.Device)           { h.note("end " + d.Name()) }
func (h recordingHooks) UnbindBegin(*device.Device)          {}
func (h recordingHooks) UnbindAbort(*device.Device)          {}
func (h recordingHooks) BeforeRemove(*device.Device)         {}
func (h recordingHooks) UnbindCleanup(*device.Device)        {}
func (h recordingHooks) LinkAdded(*device.Link)              {}
func (h recordingHooks) LinkRemoved(*device.Link)            {}
func (h recordingHooks) RuntimeStatus(*device.Device) string { return "" }
func (h recordingHooks) note(s string)                       { *h.calls = append(*h.calls, s) }

// wrapping replaces ProbeBegin of the hooks it wraps and passes the rest
// on, as a PM core rebuilding part of another does.
type wrapping struct {
	bus.PowerHooks
	calls *[]string
}

func (w wrapping) ProbeBegin(d *device.Device) {
	*w.calls = append(*w.calls, "wrapped begin "+d.Name())
}

// PowerHooks returns the hooks SetPowerHooks installed, which a second PM
// core can wrap: the probe calls the wrapper's ProbeBegin and, through it,
// the first core's ProbeEnd.
func TestPowerHooksCanBeWrapped(t *testing.T) {
	c, b := newCore(t)
	assert.Nil(t, c.PowerHooks(), "no PM core yet")
	var calls []string
	inner := recordingHooks{calls: &calls}
	c.SetPowerHooks(inner)
	require.Equal(t, inner, c.PowerHooks())
	c.SetPowerHooks(wrapping{PowerHooks: c.PowerHooks(), calls: &calls})

	require.NoError(t, c.RegisterDriver(platform.NewDriver("uart", func(d *device.Device) error {
		calls = append(calls, "probe "+d.Name())
		return nil
	}, nil)))
	require.NoError(t, c.RegisterDevice(platform.NewDevice(b, "uart")))
	assert.Equal(t, []string{"wrapped begin uart", "probe uart", "end uart"}, calls)
}

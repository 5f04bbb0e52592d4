package device_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// A release callback that panics at the last put_device is an oops:
// Put returns, the devres left on the device was released first, and the
// report is kept.
func TestReleaseOops(t *testing.T) {
	e := env.New()
	ran := false
	d := device.New("r", device.WithRelease(func(*device.Device) { panic("release went wrong") }))
	require.NoError(t, d.Core().Initialize(e))
	_, err := d.Devres().Add("leftover", func() { ran = true })
	require.NoError(t, err)
	require.NoError(t, d.Put())
	assert.True(t, ran)
	assert.True(t, d.Released())
	evs := trace.Filter(e.Log().Events(), trace.OfKind(trace.Oops))
	require.Len(t, evs, 1)
	assert.Equal(t, "device_release", evs[0].Func)
	kept, _ := e.Reports()
	require.Len(t, kept, 1)
	assert.ErrorIs(t, kept[0], env.ErrOops)
	assert.Equal(t, "Oops", device.ErrnoName(kept[0]))
}

package bus_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/trace"
)

// syncRig: a supplier "s" whose driver has a sync_state, bound, and a
// consumer "c" linked to it, without a driver; calls counts the
// sync_states.
type syncRig struct {
	c     *bus.Core
	s, cd *device.Device
	sDrv  *driver.Driver
	calls int
}

func newSyncRig(t *testing.T, flags device.LinkFlags) *syncRig {
	t.Helper()
	c, b := newCore(t)
	r := &syncRig{c: c}
	r.s = platform.NewDevice(b, "s")
	r.cd = platform.NewDevice(b, "c")
	require.NoError(t, c.RegisterDevice(r.s))
	require.NoError(t, c.RegisterDevice(r.cd))
	_, err := c.AddLink(r.cd, r.s, flags)
	require.NoError(t, err)
	r.sDrv = platform.NewDriver("s", nil, nil)
	r.sDrv.SyncState = func(*device.Device) { r.calls++ }
	require.NoError(t, c.RegisterDriver(r.sDrv))
	require.Equal(t, device.StateBound, r.s.State())
	return r
}

// sync_state waits for the consumer to bind, runs once, and not while
// paused; the last resume runs it.
func TestSyncStateWaitsForConsumers(t *testing.T) {
	r := newSyncRig(t, device.LinkAutoprobeConsumer)
	assert.Zero(t, r.calls, "the consumer has no driver")
	r.c.SyncStatePause()
	r.c.SyncStatePause()
	require.NoError(t, r.c.RegisterDriver(platform.NewDriver("c", nil, nil)))
	assert.Zero(t, r.calls, "paused")
	r.c.SyncStateResume()
	assert.Zero(t, r.calls, "still paused once")
	r.c.SyncStateResume()
	assert.Equal(t, 1, r.calls)
	assert.True(t, r.c.StateSynced(r.s))
	require.NoError(t, r.c.Unbind(r.cd))
	_, err := r.c.Attach(r.cd)
	require.NoError(t, err)
	assert.Equal(t, 1, r.calls, "once only")
}

// A resume without a pause is the kernel's WARN, and changes nothing.
func TestSyncStateUnmatchedResume(t *testing.T) {
	r := newSyncRig(t, device.LinkAutoprobeConsumer)
	r.c.SyncStateResume()
	var warned bool
	for _, e := range r.c.Log().Events() {
		warned = warned || (e.Kind == trace.Warn && e.Msg == "Unmatched sync_state pause/resume!")
	}
	assert.True(t, warned)
}

// Writing 1 to state_synced forces it, once; a device without a
// sync_state has nothing to force.
func TestForceSyncState(t *testing.T) {
	r := newSyncRig(t, device.LinkAutoprobeConsumer)
	require.NoError(t, r.c.ForceSyncState(r.s))
	require.NoError(t, r.c.ForceSyncState(r.s))
	assert.Equal(t, 1, r.calls)
	assert.ErrorIs(t, r.c.ForceSyncState(r.cd), device.ErrInvalid)
	assert.ErrorIs(t, r.c.ForceSyncState(device.New("x")), device.ErrNoDevice)
}

// A bus's sync_state runs instead of the driver's.
func TestBusSyncState(t *testing.T) {
	c := bus.NewCore(nil)
	t.Cleanup(c.Close)
	var got []string
	b := platform.NewBus()
	b.SyncState = func(d *device.Device) { got = append(got, "bus "+d.Name()) }
	require.NoError(t, c.RegisterBus(b))
	drv := platform.NewDriver("s", nil, nil)
	drv.SyncState = func(d *device.Device) { got = append(got, "driver "+d.Name()) }
	require.NoError(t, c.RegisterDriver(drv))
	require.NoError(t, c.RegisterDevice(platform.NewDevice(b, "s")))
	assert.Equal(t, []string{"bus s"}, got, "no consumer: at once, by the bus")
}

// SYNC_STATE_ONLY links: only with INFERRED and CYCLE; never refused for
// a loop; refused once the consumer is bound; they do not hold the probe
// back and go when the consumer binds; a plain managed request turns one
// into an ordinary link.
func TestSyncStateOnlyLinks(t *testing.T) {
	c, b := newCore(t)
	s := platform.NewDevice(b, "s")
	cd := platform.NewDevice(b, "c")
	require.NoError(t, c.RegisterDevice(s))
	require.NoError(t, c.RegisterDevice(cd))
	_, err := c.AddLink(cd, s, device.LinkSyncStateOnly|device.LinkAutoprobeConsumer)
	assert.ErrorIs(t, err, device.ErrInvalid)
	l, err := c.AddLink(cd, s, device.LinkSyncStateOnly|device.LinkInferred)
	require.NoError(t, err)
	_, err = c.AddLink(s, cd, device.LinkSyncStateOnly|device.LinkInferred|device.LinkCycle)
	require.NoError(t, err, "a SYNC_STATE_ONLY link may close a loop")

	require.NoError(t, c.RegisterDriver(platform.NewDriver("c", nil, nil)))
	assert.Equal(t, device.StateBound, cd.State(), "not held back by its unbound supplier")
	assert.NotContains(t, cd.Suppliers(), l, "gone when the consumer bound")
	_, err = c.AddLink(cd, s, device.LinkSyncStateOnly|device.LinkInferred)
	assert.ErrorIs(t, err, device.ErrBusy)

	x := platform.NewDevice(b, "x")
	require.NoError(t, c.RegisterDevice(x))
	l2, err := c.AddLink(x, s, device.LinkSyncStateOnly|device.LinkInferred)
	require.NoError(t, err)
	l3, err := c.AddLink(x, s, device.LinkAutoprobeConsumer)
	require.NoError(t, err)
	assert.Same(t, l2, l3)
	assert.Equal(t, device.LinkFlags(0), l3.Flags&(device.LinkSyncStateOnly|device.LinkInferred))
}

// A sync_state that panics is reported (an Oops) and the machine goes on:
// the device lock is released, the device counts as synced.
func TestSyncStatePanicIsReported(t *testing.T) {
	r := newSyncRig(t, device.LinkAutoprobeConsumer)
	r.sDrv.SyncState = func(*device.Device) { panic("regulator_late_cleanup: bad pointer") }
	require.NoError(t, r.c.RegisterDriver(platform.NewDriver("c", nil, nil)))
	kept, total := r.c.Env().Reports()
	require.Equal(t, 1, total)
	assert.Equal(t, "Oops: sync_state of /sys/devices/platform/s panicked: regulator_late_cleanup: bad pointer", kept[0].Title)
	assert.False(t, r.s.Locked())
	assert.True(t, r.c.StateSynced(r.s))
	require.NoError(t, r.c.Unbind(r.s), "the machine goes on")
}

package drmsim_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/revocable"
)

// The classic API: drm_dev_enter/exit, nesting, drm_dev_is_unplugged; the
// unplug waits for a section that is open, and later sections fail.
func TestEnterExitClassic(t *testing.T) {
	r := newRig(t, nil, false)
	defer r.sys.Close()
	d := r.g.drm
	idx, ok := d.Enter()
	require.True(t, ok)
	require.True(t, idx.Valid())
	inner, ok := d.Enter() // sections nest
	require.True(t, ok)
	d.Exit(inner)
	assert.False(t, d.IsUnplugged())
	assert.Equal(t, 1, d.Presence().Readers())

	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Unplug()
	}()
	require.Eventually(t, d.Unplugged, time.Second, time.Millisecond)
	select {
	case <-done:
		t.Fatal("drm_dev_unplug returned while a drm_dev_enter section was open")
	case <-time.After(20 * time.Millisecond):
	}
	assert.True(t, d.Registered(), "unregistered only after the grace period")
	_, ok = d.Enter()
	assert.False(t, ok, "a new section fails once the unplug has begun")
	d.Exit(idx)
	<-done
	assert.False(t, d.Registered())
	assert.True(t, d.IsUnplugged())
	assert.Equal(t, 0, d.Presence().Readers())
	d.Unplug() // idempotent
	require.NoError(t, r.sys.UnregisterDevice(r.dev))
	assert.True(t, d.Released())
	assert.True(t, d.Presence().Released(), "the provider goes with the device")
}

// The new style: a driver holds its own revocable handle on the device's
// presence and runs hardware accesses with OrReturn.
func TestEnterRevocableHandle(t *testing.T) {
	r := newRig(t, nil, false)
	defer r.sys.Close()
	d := r.g.drm
	h, err := revocable.New(d.Presence())
	require.NoError(t, err)
	touched := 0
	hw := func(p *drmsim.Presence) error {
		require.Same(t, d, p.Dev)
		r.g.regs.Access("new-style driver: write registers")
		touched++
		return nil
	}
	require.NoError(t, h.OrReturn(hw))
	require.NoError(t, r.sys.UnregisterDevice(r.dev)) // unplug, then devm frees the registers
	err = h.OrReturn(hw)
	assert.ErrorIs(t, err, revocable.ErrRevoked)
	assert.Equal(t, 1, touched)
	_, err = revocable.New(d.Presence())
	assert.ErrorIs(t, err, revocable.ErrRevoked, "no new handle after unplug")
	assert.True(t, d.Released(), "the drm device does not wait for driver handles")
	assert.False(t, d.Presence().Released(), "the handle keeps the provider")
	require.NoError(t, h.Close())
	assert.True(t, d.Presence().Released())
	assert.Empty(t, r.class.Memory().Reports())
}

// Many goroutines entering while the device is unplugged: each section
// either fails or completes before the unplug returns.
func TestEnterStressAgainstUnplug(t *testing.T) {
	r := newRig(t, nil, false)
	defer r.sys.Close()
	d := r.g.drm
	var wg sync.WaitGroup
	var mu sync.Mutex
	var unplugReturned bool
	var bad int
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2000 {
				idx, ok := d.Enter()
				if !ok {
					return
				}
				mu.Lock()
				if unplugReturned {
					bad++
				}
				mu.Unlock()
				d.Exit(idx)
			}
		}()
	}
	d.Unplug()
	mu.Lock()
	unplugReturned = true
	mu.Unlock()
	wg.Wait()
	assert.Zero(t, bad, "no section ran after drm_dev_unplug returned")
	require.NoError(t, r.sys.UnregisterDevice(r.dev))
	assert.True(t, d.Released())
}

func TestErrorsAreErrno(t *testing.T) {
	for _, err := range []error{drmsim.ErrBadFile, drmsim.ErrNotSupported, drmsim.ErrFault} {
		assert.True(t, errors.Is(err, err))
		assert.Contains(t, err.Error(), "-E")
	}
	assert.Same(t, drmsim.ErrNoDevice, drmsim.ErrNoDevice)
}

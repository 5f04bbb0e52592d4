package kernel_test

import (
	"sync"
	"testing"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKrefReleaseRunsOnceAtZero(t *testing.T) {
	e := env.New()
	k := kernel.NewKref(e, "dev")
	assert.Equal(t, 1, k.Read())
	released := 0
	release := func() { released++ }
	var wg sync.WaitGroup
	for range 8 {
		k.Get()
	}
	for range 8 {
		wg.Go(func() { assert.False(t, k.Put(release)) })
	}
	wg.Wait()
	assert.Equal(t, 1, k.Read())
	assert.Zero(t, released)
	assert.True(t, k.Put(release))
	assert.Equal(t, 1, released)
	assert.False(t, k.GetUnlessZero(), "a lookup cannot revive it")
	assert.Zero(t, k.Read())
	_, total := e.Reports()
	assert.Zero(t, total)
	k.Init()
	assert.True(t, k.GetUnlessZero())
	assert.Equal(t, 2, k.Read())
}

// Get on zero and Put below zero are refcount_t's warnings and leave the
// count at zero, with no second release.
func TestKrefMisuseWarnsAndStaysSane(t *testing.T) {
	e := env.New()
	k := kernel.NewKref(e, "urb")
	released := 0
	require.True(t, k.Put(func() { released++ }))
	k.Get()
	assert.Zero(t, k.Read())
	assert.False(t, k.Put(func() { released++ }))
	assert.Equal(t, 1, released)
	assert.Zero(t, k.Read())
	assert.False(t, k.Put(nil), "no release function: not touched")
	kept, total := e.Reports()
	require.Equal(t, 2, total)
	assert.Equal(t, "WARNING: refcount_t: addition on 0; use-after-free.", kept[0].Title)
	assert.Equal(t, env.BugUseAfterFree, kept[0].Kind)
	assert.Contains(t, kept[0].Details, "kref urb\n")
	assert.Equal(t, "WARNING: refcount_t: underflow; use-after-free.", kept[1].Title)
}

// Embedded in a simulated allocation, a Get after the release freed it is
// a KASAN use-after-free.
func TestKrefEmbeddedGetAfterFree(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		obj := s.Alloc("struct usb_skel")
		k := kernel.NewKref(s, "skel").EmbedIn(obj)
		s.Go("release", func() { k.Put(obj.Free) })
		s.Go("open", func() { s.CondResched("lookup"); k.Get() })
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugUseAfterFree, r.Failure.Kind)
	assert.Equal(t, "BUG: KASAN: use-after-free in kref_get skel", r.Failure.Title)
}

// A count that would overflow saturates: a warning, and the object is
// leaked rather than freed early.
func TestKrefSaturates(t *testing.T) {
	defer kernel.SetKrefMax(3)()
	e := env.New()
	k := kernel.NewKref(e, "leaky")
	k.Get()
	k.Get()
	assert.Equal(t, 3, k.Read())
	k.Get()
	assert.True(t, k.GetUnlessZero(), "a saturated count still hands out references")
	released := false
	for range 10 {
		assert.False(t, k.Put(func() { released = true }))
	}
	assert.False(t, released, "never released once saturated")
	kept, total := e.Reports()
	require.Equal(t, 1, total)
	assert.Equal(t, "WARNING: refcount_t: saturated; leaking memory.", kept[0].Title)
	assert.Equal(t, env.BugLeak, kept[0].Kind)
}

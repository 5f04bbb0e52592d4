package env_test

import (
	"runtime"
	"testing"
	"weak"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func TestPlainMemory(t *testing.T) {
	e := env.New()
	log := e.Log()
	m := e.Memory()
	v := env.NewValue(m, "config", 7)
	assert.Equal(t, 7, v.Load("read config"))
	v.Store("write config", 8)
	v.Free()
	assert.True(t, v.Object().Freed())
	assert.Equal(t, 8, v.Load("stale read"), "KASAN reports and carries on")
	require.Len(t, m.Reports(), 1)
	assert.Equal(t, "BUG: KASAN: use-after-free in stale read", m.Reports()[0].Title)
	assert.Contains(t, m.Reports()[0].Details, "env_test.TestPlainMemory (memory_test.go:")
	assert.Len(t, trace.Filter(log.Events(), trace.OfKind(trace.Warn)), 1)
	kept, total := e.Reports()
	assert.Equal(t, 1, total)
	assert.Same(t, m.Reports()[0], kept[0])

	o := m.Alloc("leaky")
	assert.Equal(t, "leaky", o.Name())
	require.Len(t, m.Leaks(), 1)
	assert.Contains(t, m.Leaks()[0], "unreferenced object leaky (object #2)")

	m.SetPanicOnBug(true)
	o.Free()
	assert.PanicsWithError(t, "BUG: KASAN: double-free in kfree leaky", o.Free)
}

// A freed object leaves the arena: a machine that allocates and frees for
// ever (a shell plugging and unplugging) holds only what is live. Whoever
// still points at a freed object keeps it, and its use-after-free is still
// reported.
func TestMemoryKeepsOnlyLiveObjects(t *testing.T) {
	e := env.New()
	m := e.Memory()
	kept := m.Alloc("kept")
	var gone []weak.Pointer[env.Object]
	for range 100 {
		o := m.Alloc("urb buffer")
		o.Free()
		gone = append(gone, weak.Make(o))
	}
	held := m.Alloc("held after free")
	held.Free()
	runtime.GC()
	collected := 0
	for _, w := range gone {
		if w.Value() == nil {
			collected++
		}
	}
	assert.Equal(t, len(gone), collected, "freed objects nobody points at are collected")
	assert.Equal(t, []*env.Object{kept}, m.Live())
	held.Access("late read")
	require.Len(t, m.Reports(), 1)
	assert.Equal(t, "BUG: KASAN: use-after-free in late read", m.Reports()[0].Title)
	next := m.Alloc("next")
	assert.Equal(t, []*env.Object{kept, next}, m.Live(), "allocation order")
	assert.Contains(t, m.Leaks()[1], "next (object #103)", "ids keep counting")
}

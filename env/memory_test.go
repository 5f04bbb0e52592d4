package env_test

import (
	"testing"

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

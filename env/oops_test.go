package env_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// oopsOf runs fn and turns its panic into an oops of e, as the driver
// core does around a callback.
func oopsOf(e *env.Env, fn func()) (o *env.Oops) {
	defer func() {
		if v := recover(); v != nil {
			o = e.Oops(v, env.OopsSite{Func: "call_driver_probe", Callback: "probe", Dev: "/sys/devices/x", Driver: "x"})
		}
	}()
	fn()
	return nil
}

// Each kind of fault gets the kernel's words.
func TestOopsTitles(t *testing.T) {
	e := env.New()
	var m map[string]int
	var p *struct{ v int }
	zero := 0
	idx := 5
	cases := []struct {
		fn    func()
		title string
	}{
		{func() { _ = p.v }, "BUG: kernel NULL pointer dereference"},
		{func() { _ = []int{1}[idx] }, "BUG: unable to handle page fault"},
		{func() { _ = 1 / zero }, "Oops: divide error"},
		{func() { m["x"] = 1 }, "Oops: invalid opcode"},
	}
	for i, c := range cases {
		o := oopsOf(e, c.fn)
		require.NotNil(t, o)
		assert.Equal(t, c.title, o.Title)
		assert.Equal(t, i+1, o.N)
	}
	o := oopsOf(e, func() { panic("driver gave up") })
	assert.Regexp(t, `^kernel BUG at oops_test\.go:\d+!$`, o.Title)
	assert.Equal(t, `kernel BUG at `+o.Title[len("kernel BUG at "):len(o.Title)-1]+`! in probe of driver x: Oops [#5]: driver gave up`, o.Error())
	assert.Contains(t, o.Trace[0], "oops_test.go")

	evs := trace.Filter(e.Log().Events(), trace.OfKind(trace.Oops))
	require.Len(t, evs, 5)
	assert.Equal(t, "call_driver_probe /sys/devices/x: BUG: kernel NULL pointer dereference in probe of driver x: Oops [#1]: runtime error: invalid memory address or nil pointer dereference", evs[0].Short())
	kept, total := e.Reports()
	assert.Equal(t, 5, total)
	assert.Len(t, trace.Filter(e.Log().Events(), trace.OfKind(trace.Warn)), 0, "an oops is one event, not two")
	for _, r := range kept {
		assert.Equal(t, env.BugPanic, r.Kind)
		assert.ErrorIs(t, r, env.ErrOops)
	}
}

// An oops wraps an error panic value; errors.Is sees through it.
func TestOopsWrapsError(t *testing.T) {
	e := env.New()
	mine := errors.New("mine")
	o := oopsOf(e, func() { panic(fmt.Errorf("wrapped: %w", mine)) })
	assert.ErrorIs(t, o, env.ErrOops)
	assert.ErrorIs(t, o, mine)
	assert.Nil(t, oopsOf(e, func() {}))
}

// unwind is a simulator's unwind value.
type unwind struct{}

func (unwind) EnvUnwind() {}

// A simulator's unwind is no oops: Oops lets it through.
func TestOopsLetsUnwindThrough(t *testing.T) {
	e := env.New()
	assert.True(t, env.Unwinding(unwind{}))
	assert.False(t, env.Unwinding("boom"))
	assert.PanicsWithValue(t, unwind{}, func() { oopsOf(e, func() { panic(unwind{}) }) })
	_, total := e.Reports()
	assert.Zero(t, total)
}

// bugger is a scheduler that records Bug calls and unwinds like a
// simulator.
type bugger struct{ bugs []*env.Report }

func (b *bugger) Yield(sched.Point)             {}
func (b *bugger) Block(sched.Wait, func() bool) {}
func (b *bugger) Fault(string) error            { return nil }
func (b *bugger) Current() string               { return "task" }
func (b *bugger) Bug(r *env.Report)             { b.bugs = append(b.bugs, r); panic(unwind{}) }

// Under a simulator an oops inside a postponed stretch fails the run only
// when the outermost stretch ends; outside one, at once.
func TestOopsPostponed(t *testing.T) {
	b := &bugger{}
	e := env.New(env.WithScheduler(b))
	e.PostponeBegin()
	e.PostponeBegin()
	o := oopsOf(e, func() { panic("first") })
	require.NotNil(t, o, "the caller carries on")
	e.ReportPostponed("deferred_probe", &env.Report{Kind: env.BugLivelock, Title: "loop"})
	e.PostponeEnd()
	assert.Empty(t, b.bugs, "still inside the outer stretch")
	assert.PanicsWithValue(t, unwind{}, e.PostponeEnd)
	require.Len(t, b.bugs, 1, "the first report fails the run and unwinds")
	assert.ErrorIs(t, b.bugs[0], env.ErrOops)

	assert.PanicsWithValue(t, unwind{}, func() { oopsOf(e, func() { panic("outside") }) })
	assert.Len(t, b.bugs, 2)
}

// A sanitizer told to panic (kasan.fault=panic) panics through a driver
// callback: its report is no oops.
func TestOopsLetsPanickingReportsThrough(t *testing.T) {
	e := env.New()
	e.Memory().SetPanicOnBug(true)
	v := env.NewValue(e.Memory(), "regs", 1)
	v.Free()
	defer func() {
		r := recover()
		rep, ok := r.(*env.Report)
		require.True(t, ok, "%v", r)
		assert.Equal(t, env.BugUseAfterFree, rep.Kind)
		kept, _ := e.Reports()
		require.Len(t, kept, 1, "KASAN's report, no oops")
		assert.Same(t, rep, kept[0])
	}()
	oopsOf(e, func() { v.Load("read regs") })
}

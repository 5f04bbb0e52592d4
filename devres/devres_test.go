package devres_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// recorder returns an action that appends its name to *ran.
func recorder(ran *[]string, name string) devres.Action {
	return func() { *ran = append(*ran, name) }
}

func TestReleaseAllRunsLIFOOnceAndCounts(t *testing.T) {
	l := devres.NewList("/sys/devices/platform/foo")
	var ran []string
	for _, n := range []string{"clk", "irq", "regmap"} {
		_, err := l.Add(n, recorder(&ran, n))
		require.NoError(t, err)
	}
	require.Equal(t, 3, l.Len())
	require.Equal(t, []string{"clk", "irq", "regmap"}, l.Names())

	require.Equal(t, 3, l.ReleaseAll())
	assert.Equal(t, []string{"regmap", "irq", "clk"}, ran)
	assert.True(t, l.Empty())
	assert.Equal(t, 0, l.ReleaseAll(), "a second release runs nothing")
	assert.Len(t, ran, 3)
}

func TestAddRejectsNilAction(t *testing.T) {
	l := devres.NewList("")
	_, err := l.Add("bad", nil)
	require.ErrorIs(t, err, devres.ErrInvalid)
	assert.True(t, l.Empty())
}

func TestAddDuringReleaseStaysForNextRelease(t *testing.T) {
	l := devres.NewList("")
	var ran []string
	_, err := l.Add("outer", func() {
		ran = append(ran, "outer")
		_, err := l.Add("late", recorder(&ran, "late"))
		require.NoError(t, err)
	})
	require.NoError(t, err)

	require.Equal(t, 1, l.ReleaseAll())
	assert.Equal(t, []string{"outer"}, ran)
	assert.Equal(t, []string{"late"}, l.Names(), "added during release: kept, not lost, not run")

	require.Equal(t, 1, l.ReleaseAll())
	assert.Equal(t, []string{"outer", "late"}, ran)
}

func TestRemoveAndReleaseByHandle(t *testing.T) {
	l := devres.NewList("")
	var ran []string
	a, err := l.Add("a", recorder(&ran, "a"))
	require.NoError(t, err)
	b, err := l.Add("b", recorder(&ran, "b"))
	require.NoError(t, err)
	c, err := l.Add("c", recorder(&ran, "c"))
	require.NoError(t, err)

	require.NoError(t, l.Remove(b))
	assert.Empty(t, ran, "devm_remove_action does not run the action")
	require.NoError(t, l.Release(a))
	assert.Equal(t, []string{"a"}, ran, "devm_release_action runs it now")
	assert.Equal(t, []string{"c"}, l.Names())

	// Unknown or already-gone handles.
	require.ErrorIs(t, l.Remove(b), devres.ErrNotFound)
	require.ErrorIs(t, l.Release(a), devres.ErrNotFound)
	require.ErrorIs(t, l.Release(devres.Handle{}), devres.ErrNotFound)
	other := devres.NewList("")
	require.ErrorIs(t, other.Remove(c), devres.ErrNotFound, "a handle of another list")
	assert.Equal(t, []string{"c"}, l.Names(), "failed calls leave state intact")

	l.ReleaseAll()
	require.ErrorIs(t, l.Release(c), devres.ErrNotFound)
	assert.Equal(t, []string{"a", "c"}, ran)
}

func TestFaultInjectionAndAddOrReset(t *testing.T) {
	l := devres.NewList("/sys/devices/platform/foo")
	log := trace.NewLog()
	l.Attach(env.New(env.WithLog(log)))
	fail := true
	var points []string
	l.SetFaultHook(func(p string) error {
		points = append(points, p)
		if fail {
			return errors.New("injected")
		}
		return nil
	})
	var ran []string
	_, err := l.Add("plain", recorder(&ran, "plain"))
	require.ErrorIs(t, err, devres.ErrNoMemory)
	assert.Empty(t, ran, "a failed devm_add_action does not run the action")

	h, err := l.AddOrReset("reset", recorder(&ran, "reset"))
	require.ErrorIs(t, err, devres.ErrNoMemory)
	assert.False(t, h.Valid())
	assert.Equal(t, []string{"reset"}, ran, "devm_add_action_or_reset runs the action at once")
	assert.True(t, l.Empty())
	assert.Equal(t, []string{sched.FaultDevresAdd, sched.FaultDevresAdd}, points)

	_, err = l.OpenGroup("g")
	require.ErrorIs(t, err, devres.ErrNoMemory)

	fail = false
	h, err = l.AddOrReset("ok", recorder(&ran, "ok"))
	require.NoError(t, err)
	assert.Equal(t, "ok", h.Name())
	assert.Len(t, trace.Filter(log.Events(), trace.OfKind(trace.Fault)), 3)
}

func TestGroupsReleaseOnlyTheirOwnLIFO(t *testing.T) {
	l := devres.NewList("")
	var ran []string
	add := func(n string) {
		_, err := l.Add(n, recorder(&ran, n))
		require.NoError(t, err)
	}
	add("before")
	g, err := l.OpenGroup("outer")
	require.NoError(t, err)
	add("g1")
	inner, err := l.OpenGroup("inner")
	require.NoError(t, err)
	add("i1")
	require.NoError(t, l.CloseGroup(inner))
	add("g2")
	require.NoError(t, l.CloseGroup(g))
	add("after")

	n, err := l.ReleaseGroup(g)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, []string{"g2", "i1", "g1"}, ran)
	assert.Equal(t, []string{"before", "after"}, l.Names())

	// Both groups are gone with it.
	_, err = l.ReleaseGroup(g)
	require.ErrorIs(t, err, devres.ErrNotFound)
	require.ErrorIs(t, l.CloseGroup(inner), devres.ErrNotFound)
}

func TestOpenGroupReleasesToEndOfList(t *testing.T) {
	l := devres.NewList("")
	var ran []string
	_, _ = l.Add("a", recorder(&ran, "a"))
	g, err := l.OpenGroup("open")
	require.NoError(t, err)
	_, _ = l.Add("b", recorder(&ran, "b"))
	_, _ = l.Add("c", recorder(&ran, "c"))
	n, err := l.ReleaseGroup(g)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, []string{"c", "b"}, ran)
	assert.Equal(t, []string{"a"}, l.Names())
}

func TestPartiallyOverlappingGroupKeepsItsMarkers(t *testing.T) {
	// outer opened before inner and closed after inner's close is fine;
	// here "late" is opened inside g but closed after g: releasing g
	// releases every action in g's range but keeps late's markers.
	l := devres.NewList("")
	var ran []string
	g, _ := l.OpenGroup("g")
	late, _ := l.OpenGroup("late")
	_, _ = l.Add("x", recorder(&ran, "x"))
	require.NoError(t, l.CloseGroup(g))
	_, _ = l.Add("y", recorder(&ran, "y"))
	require.NoError(t, l.CloseGroup(late))

	n, err := l.ReleaseGroup(g)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []string{"x"}, ran)
	n, err = l.ReleaseGroup(late)
	require.NoError(t, err, "a group only partly inside the released range survives")
	assert.Equal(t, 1, n)
	assert.Equal(t, []string{"x", "y"}, ran)
	assert.True(t, l.Empty())
}

func TestRemoveGroupKeepsActions(t *testing.T) {
	l := devres.NewList("")
	var ran []string
	g, _ := l.OpenGroup("g")
	_, _ = l.Add("a", recorder(&ran, "a"))
	require.NoError(t, l.CloseGroup(g))
	require.ErrorIs(t, l.CloseGroup(g), devres.ErrInvalid, "closing twice")
	require.NoError(t, l.RemoveGroup(g))
	require.ErrorIs(t, l.RemoveGroup(g), devres.ErrNotFound)
	assert.Empty(t, ran)
	assert.Equal(t, 1, l.ReleaseAll())
	assert.Equal(t, []string{"a"}, ran)
	require.ErrorIs(t, l.CloseGroup(nil), devres.ErrNotFound)
}

func TestReleaseAllDropsGroupMarkers(t *testing.T) {
	l := devres.NewList("")
	g, _ := l.OpenGroup("g")
	require.False(t, l.Empty())
	assert.Equal(t, 0, l.ReleaseAll())
	assert.True(t, l.Empty())
	_, err := l.ReleaseGroup(g)
	require.ErrorIs(t, err, devres.ErrNotFound)
}

func TestTraceNamesEachAction(t *testing.T) {
	log := trace.NewLog()
	l := devres.NewList("/sys/devices/platform/foo")
	l.Attach(env.New(env.WithLog(log)))
	_, _ = l.Add("clk", func() {})
	_, _ = l.Add("irq", func() {})
	l.ReleaseAll()
	_ = l.Remove(devres.Handle{})
	assert.Equal(t, []string{
		"devm_add_action /sys/devices/platform/foo: clk",
		"devm_add_action /sys/devices/platform/foo: irq",
		"devm_action_release /sys/devices/platform/foo: irq",
		"devm_action_release /sys/devices/platform/foo: clk",
		"devm_remove_action /sys/devices/platform/foo: no such action ",
	}, trace.Shorts(log.Events()))
}

// fakeSched records schedule points and fails a named fault point.
type fakeSched struct {
	points []string
	fail   string
}

func (f *fakeSched) Yield(p sched.Point)                   { f.points = append(f.points, p.String()) }
func (f *fakeSched) Block(w sched.Wait, ready func() bool) {}
func (f *fakeSched) Current() string                       { return "t0" }
func (f *fakeSched) Fault(point string) error {
	if point == f.fail {
		return fmt.Errorf("fault %s", point)
	}
	return nil
}

func TestSchedulerSeam(t *testing.T) {
	s := &fakeSched{}
	l := devres.NewList("")
	l.Attach(env.New(env.WithScheduler(s)))
	_, _ = l.Add("a", func() {})
	_, _ = l.Add("b", func() {})
	l.ReleaseAll()
	assert.Equal(t, []string{"devres devres_release_all b", "devres devres_release_all a"}, s.points)

	s.fail = sched.FaultDevresAdd
	_, err := l.Add("c", func() {})
	require.ErrorIs(t, err, devres.ErrNoMemory)
}

func ExampleList() {
	l := devres.NewList("/sys/devices/platform/foo")
	_, _ = l.Add("disable clock", func() { fmt.Println("clock off") })
	_, _ = l.Add("free irq", func() { fmt.Println("irq freed") })
	fmt.Println("released", l.ReleaseAll())
	// Output:
	// irq freed
	// clock off
	// released 2
}

func TestCount(t *testing.T) {
	assert.Equal(t, "0 actions", devres.Count(0))
	assert.Equal(t, "1 action", devres.Count(1))
	assert.Equal(t, "3 actions", devres.Count(3))
}

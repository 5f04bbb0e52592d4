package revocable_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

type regs struct {
	val      int
	poisoned atomic.Bool
}

func TestProviderConsumerCycle(t *testing.T) {
	log := trace.NewLog()
	r := &regs{val: 42}
	p := revocable.NewProvider(env.New(env.WithLog(log)), r, revocable.WithName("ec0"))
	assert.Equal(t, "ec0", p.Name())
	assert.Equal(t, 1, p.Refs())

	c, err := revocable.New(p)
	require.NoError(t, err)
	assert.Same(t, p, c.Provider())
	assert.Equal(t, 2, p.Refs())

	res, a := c.TryAccess()
	assert.True(t, a.Valid())
	assert.Same(t, r, res)
	assert.Equal(t, 1, p.Readers())
	a.Release()
	assert.Equal(t, 0, p.Readers())

	p.Revoke()
	assert.True(t, p.Revoked())
	assert.False(t, p.Released(), "the consumer still holds a reference")
	assert.Equal(t, 1, p.Refs())

	res, a = c.TryAccess()
	assert.Nil(t, res)
	a.Release()

	require.NoError(t, c.Close())
	assert.True(t, c.Closed())
	assert.Equal(t, 0, p.Refs())
	assert.True(t, p.Released())

	assert.Equal(t, []string{
		"revocable_provider_alloc ec0: refs=1",
		"revocable_init ec0: refs=2",
		"revocable_provider_revoke ec0: start",
		"synchronize_srcu ec0: grace period 1 start",
		"synchronize_srcu ec0: grace period 1 done",
		"revocable_provider_revoke ec0: grace period done",
		"revocable_deinit ec0: refs=0",
		"revocable_provider_release ec0: released",
	}, trace.Shorts(log.Events()))
	kinds := []trace.Kind{}
	for _, e := range log.Events() {
		kinds = append(kinds, e.Kind)
	}
	assert.Equal(t, []trace.Kind{trace.Revocable, trace.Revocable, trace.Revoke, trace.SRCU, trace.SRCU,
		trace.Revoke, trace.Revocable, trace.Revocable}, kinds)
}

func TestRevokeWithoutConsumersReleases(t *testing.T) {
	p := revocable.NewProvider(nil, &regs{})
	assert.Equal(t, "revocable", p.Name())
	p.Revoke()
	assert.True(t, p.Released())
	assert.Equal(t, 0, p.Refs())
	p.Revoke() // idempotent, even after release
	assert.Equal(t, 0, p.Refs())
}

func TestNewFails(t *testing.T) {
	_, err := revocable.New[regs](nil)
	require.ErrorIs(t, err, revocable.ErrRevoked)

	p := revocable.NewProvider(nil, &regs{})
	keep, err := revocable.New(p)
	require.NoError(t, err)
	p.Revoke()
	assert.False(t, p.Released())
	_, err = revocable.New(p)
	require.ErrorIs(t, err, revocable.ErrRevoked, "revoked provider")
	assert.Equal(t, 1, p.Refs(), "the failed New left the count alone")

	require.NoError(t, keep.Close())
	assert.True(t, p.Released())
	_, err = revocable.New(p)
	require.ErrorIs(t, err, revocable.ErrRevoked, "released provider")
	assert.Contains(t, err.Error(), "released")
	assert.Equal(t, 0, p.Refs())
}

// REVOCABLE_TRY_ACCESS_SCOPED: the block always runs, with the resource
// or, once revoked, with nil; the section is left on every path.
func TestScoped(t *testing.T) {
	r := &regs{val: 7}
	p := revocable.NewProvider(nil, r)
	c, err := revocable.New(p)
	require.NoError(t, err)

	var seen []*regs
	body := func(res *regs) error {
		seen = append(seen, res)
		assert.Equal(t, 1, p.Readers(), "inside the section, revoked or not")
		return nil
	}
	require.NoError(t, c.Scoped(body))
	boom := errors.New("boom")
	require.ErrorIs(t, c.Scoped(func(*regs) error { return boom }), boom)
	require.PanicsWithValue(t, "in fn", func() {
		_ = c.Scoped(func(*regs) error { panic("in fn") })
	})
	assert.Equal(t, 0, p.Readers())

	p.Revoke()
	require.NoError(t, c.Scoped(body), "no error of its own: the block decides")
	assert.Equal(t, []*regs{r, nil}, seen, "the block ran with the resource, then with nil")
	assert.Equal(t, 0, p.Readers())

	require.NoError(t, c.Close())
	require.ErrorIs(t, c.Scoped(body), revocable.ErrClosed)
	assert.Len(t, seen, 2, "not run on a closed consumer")
}

// revocable_try_access_or_skip_scoped: the block runs with the resource,
// and is skipped once revoked, without an error.
func TestOrSkip(t *testing.T) {
	r := &regs{val: 7}
	p := revocable.NewProvider(nil, r)
	c, err := revocable.New(p)
	require.NoError(t, err)

	runs := 0
	body := func(res *regs) error {
		require.NotNil(t, res)
		runs++
		return nil
	}
	require.NoError(t, c.OrSkip(body))
	boom := errors.New("boom")
	require.ErrorIs(t, c.OrSkip(func(*regs) error { return boom }), boom)
	require.PanicsWithValue(t, "in fn", func() {
		_ = c.OrSkip(func(*regs) error { panic("in fn") })
	})
	assert.Equal(t, 0, p.Readers())

	p.Revoke()
	require.NoError(t, c.OrSkip(body), "skipped, not an error")
	assert.Equal(t, 1, runs)
	assert.Equal(t, 0, p.Readers())

	require.NoError(t, c.Close())
	require.ErrorIs(t, c.OrSkip(body), revocable.ErrClosed)
	assert.Equal(t, 1, runs)
}

// revocable_try_access_or_return: fn runs with the resource; once revoked
// it is not called and the result wraps ErrRevoked (-ENODEV).
func TestOrReturn(t *testing.T) {
	r := &regs{val: 7}
	p := revocable.NewProvider(nil, r)
	c, err := revocable.New(p)
	require.NoError(t, err)
	defer func() { require.NoError(t, c.Close()) }()

	var got int
	require.NoError(t, c.OrReturn(func(res *regs) error {
		got = res.val
		assert.Equal(t, 1, p.Readers())
		return nil
	}))
	assert.Equal(t, 7, got)
	assert.Equal(t, 0, p.Readers())

	boom := errors.New("boom")
	require.ErrorIs(t, c.OrReturn(func(*regs) error { return boom }), boom)
	assert.Equal(t, 0, p.Readers())

	// a panic in fn releases the section and continues
	require.PanicsWithValue(t, "in fn", func() {
		_ = c.OrReturn(func(*regs) error { panic("in fn") })
	})
	assert.Equal(t, 0, p.Readers())

	p.Revoke()
	called := false
	err = c.OrReturn(func(*regs) error { called = true; return nil })
	require.ErrorIs(t, err, revocable.ErrRevoked)
	assert.False(t, called)
	assert.Equal(t, 0, p.Readers())
}

// waitEvent blocks until log records an event whose Short form is s.
func waitEvent(t *testing.T, log *trace.Log, s string) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, e := range log.Events() {
			if e.Short() == s {
				return true
			}
		}
		return false
	}, 5*time.Second, time.Millisecond, "no event %q", s)
}

func revokeAsync(p *revocable.Provider[regs]) chan struct{} {
	done := make(chan struct{})
	go func() {
		p.Revoke()
		close(done)
	}()
	return done
}

func requireOpen(t *testing.T, done chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
		t.Fatal(what + " returned while a reader was inside")
	default:
	}
}

func requireClosed(t *testing.T, done chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal(what + " did not return")
	}
}

// The merged form's KUnit test: a reader inside its section before the
// revoke keeps the resource while the revoke waits; a reader entering after
// the revoke began gets nil; after Revoke returns every access gets nil.
func TestRevokeWaitsForReaders(t *testing.T) {
	log := trace.NewLog()
	r := &regs{val: 1}
	p := revocable.NewProvider(env.New(env.WithLog(log)), r, revocable.WithName("p"))
	early, err := revocable.New(p)
	require.NoError(t, err)
	late, err := revocable.New(p)
	require.NoError(t, err)

	res1, a1 := early.TryAccess()
	res2, a2 := early.TryAccess() // nested, on the same handle
	require.Same(t, r, res1)
	require.Same(t, r, res2)

	done := revokeAsync(p)
	waitEvent(t, log, "synchronize_srcu p: grace period 1 start")
	assert.True(t, p.Revoked())
	requireOpen(t, done, "Revoke")

	resLate, aLate := late.TryAccess()
	assert.Nil(t, resLate, "a reader entering after the revoke began gets nil")
	assert.Equal(t, 1, res1.val, "the early reader still sees the resource")

	a1.Release()
	requireOpen(t, done, "Revoke")
	assert.Equal(t, 1, res2.val)
	a2.Release()
	requireClosed(t, done, "Revoke")
	aLate.Release() // the late reader never held the grace period up

	r.poisoned.Store(true)
	for _, c := range []*revocable.Consumer[regs]{early, late} {
		res, a := c.TryAccess()
		assert.Nil(t, res)
		a.Release()
		require.ErrorIs(t, c.OrReturn(func(*regs) error { return nil }), revocable.ErrRevoked)
		require.NoError(t, c.Close())
	}
	assert.True(t, p.Released())
}

func TestConcurrentRevokeCallersAllWait(t *testing.T) {
	p := revocable.NewProvider(nil, &regs{})
	c, err := revocable.New(p)
	require.NoError(t, err)
	_, a := c.TryAccess()

	var returned atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			p.Revoke()
			returned.Add(1)
		})
	}
	require.Eventually(t, p.Revoked, 5*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // give the callers time to (wrongly) return
	assert.Zero(t, returned.Load(), "no Revoke may return before the grace period")
	a.Release()
	wg.Wait()
	assert.Equal(t, int32(4), returned.Load())
	assert.Equal(t, 1, p.Refs(), "the provider's own reference was dropped once")
	require.NoError(t, c.Close())
	assert.True(t, p.Released())
}

// stress runs readers while the provider is revoked mid-way. After Revoke
// returns the resource is poisoned; a reader must never see a poisoned
// resource through a non-nil pointer.
func stress(t *testing.T, shared, lockdep bool) {
	t.Helper()
	const readers = 8
	r := &regs{val: 3}
	p := revocable.NewProvider(env.New(env.WithLockdep(lockdep)), r)
	var one *revocable.Consumer[regs]
	if shared {
		var err error
		one, err = revocable.New(p)
		require.NoError(t, err)
	}
	var started, bad, seen, nils atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := range readers {
		c := one
		if !shared {
			var err error
			c, err = revocable.New(p)
			require.NoError(t, err)
		}
		wg.Go(func() {
			started.Add(1)
			for n := 0; !stop.Load(); n++ {
				if (n+i)%3 == 0 {
					_ = c.OrReturn(func(res *regs) error {
						if res.poisoned.Load() || res.val != 3 {
							bad.Add(1)
						}
						return nil
					})
					continue
				}
				res, a := c.TryAccess()
				if res != nil {
					seen.Add(1)
					if n%16 == 0 {
						runtime.Gosched() // stay inside a while
					}
					if res.poisoned.Load() || res.val != 3 {
						bad.Add(1)
					}
				} else {
					nils.Add(1)
				}
				a.Release()
			}
			if !shared {
				assert.NoError(t, c.Close())
			}
		})
	}
	require.Eventually(t, func() bool { return started.Load() == readers }, 5*time.Second, time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	p.Revoke()
	r.poisoned.Store(true)
	r.val = -1 // a racing reader would trip the race detector here
	for nils.Load() < 100 {
		runtime.Gosched()
	}
	stop.Store(true)
	wg.Wait()
	if shared {
		require.NoError(t, one.Close())
	}
	assert.Zero(t, bad.Load(), "a reader saw a poisoned resource")
	assert.Positive(t, seen.Load())
	assert.True(t, p.Released())
	assert.Equal(t, 0, p.Readers())
}

func TestStressConsumerPerGoroutine(t *testing.T) { stress(t, false, false) }

// One Consumer shared by every goroutine: the kernel's version hung here.
func TestStressSharedConsumer(t *testing.T) { stress(t, true, false) }

func TestStressSharedConsumerLockdep(t *testing.T) { stress(t, true, true) }

func TestManyRevokesSharedHandle(t *testing.T) {
	for range 50 {
		p := revocable.NewProvider(nil, &regs{val: 3})
		c, err := revocable.New(p)
		require.NoError(t, err)
		var stop atomic.Bool
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for !stop.Load() {
					_, a := c.TryAccess()
					a.Release()
				}
			})
		}
		p.Revoke()
		stop.Store(true)
		wg.Wait()
		require.NoError(t, c.Close())
		require.True(t, p.Released())
	}
}

func TestMisusePanics(t *testing.T) {
	p := revocable.NewProvider(nil, &regs{}, revocable.WithName("m"))
	c, err := revocable.New(p)
	require.NoError(t, err)

	require.PanicsWithValue(t, "revocable: Release of a zero Access (Release without TryAccess)",
		revocable.Access{}.Release)
	assert.False(t, revocable.Access{}.Valid())

	_, a := c.TryAccess()
	a.Release()
	require.PanicsWithValue(t,
		`srcu: unbalanced srcu_read_unlock on domain "m" (index 0): counter would go negative (double unlock?)`,
		a.Release, "double Release")
	assert.Equal(t, 0, p.Readers())

	require.NoError(t, c.Close())
	err = c.Close()
	require.ErrorIs(t, err, revocable.ErrClosed)
	require.PanicsWithValue(t, "revocable: TryAccess on a closed Consumer of provider m",
		func() { c.TryAccess() })
	require.ErrorIs(t, c.OrReturn(func(*regs) error { return nil }), revocable.ErrClosed)

	p.Revoke() // still balanced: the grace period completes
	assert.True(t, p.Released())
}

func TestRevokeInsideOwnSectionLockdep(t *testing.T) {
	p := revocable.NewProvider(nil, &regs{}, revocable.WithName("ld"))
	c, err := revocable.New(p)
	require.NoError(t, err)
	_, a := c.TryAccess()
	assert.PanicsWithValue(t,
		`revocable: Revoke of provider "ld" from inside a read section of the same provider (`+
			env.New().Holder().String()+` holds 1) would deadlock: synchronize_srcu inside srcu_read_lock`,
		p.Revoke)
	assert.False(t, p.Revoked(), "the refused Revoke changed nothing")
	assert.Panics(t, func() {
		_ = c.OrReturn(func(*regs) error { p.Revoke(); return nil })
	})
	assert.Equal(t, 1, p.Readers(), "OrReturn released its section on the panic")

	// Another goroutine's section is not ours: Revoke waits for it.
	done := revokeAsync(p)
	require.Eventually(t, p.Revoked, 5*time.Second, time.Millisecond)
	requireOpen(t, done, "Revoke")
	a.Release()
	requireClosed(t, done, "Revoke")
	require.NoError(t, c.Close())
	assert.True(t, p.Released())
}

// fakeSched is a minimal stand-in for the deterministic scheduler: it
// records schedule points and spins in Block.
type fakeSched struct {
	mu      sync.Mutex
	task    string
	points  []string
	waits   []string
	onYield func(sched.Point) // if set, called at every schedule point
}

func (f *fakeSched) Yield(p sched.Point) {
	f.mu.Lock()
	f.points = append(f.points, p.String())
	hook := f.onYield
	f.mu.Unlock()
	if hook != nil {
		hook(p)
	}
}

func (f *fakeSched) Block(w sched.Wait, ready func() bool) {
	f.mu.Lock()
	f.waits = append(f.waits, w.What)
	f.mu.Unlock()
	for !ready() {
		runtime.Gosched()
	}
}

func (f *fakeSched) Fault(string) error { return nil }

func (f *fakeSched) Current() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.task
}

func (f *fakeSched) setTask(name string) {
	f.mu.Lock()
	f.task = name
	f.mu.Unlock()
}

func TestSchedulerPointsAndTaskLockdep(t *testing.T) {
	fs := &fakeSched{task: "reader"}
	p := revocable.NewProvider(env.New(env.WithScheduler(fs)), &regs{}, revocable.WithName("s"))
	c, err := revocable.New(p)
	require.NoError(t, err)
	_, a := c.TryAccess()
	require.PanicsWithValue(t,
		`revocable: Revoke of provider "s" from inside a read section of the same provider (reader holds 1) would deadlock: synchronize_srcu inside srcu_read_lock`,
		p.Revoke)

	// Another simulated task revokes: it blocks in the scheduler.
	fs.setTask("unbinder")
	done := revokeAsync(p)
	require.Eventually(t, func() bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		return len(fs.waits) > 0
	}, 5*time.Second, time.Millisecond)
	requireOpen(t, done, "Revoke")
	a.Release()
	requireClosed(t, done, "Revoke")
	require.NoError(t, c.Close())

	assert.Equal(t, []string{
		"srcu_read_lock s",
		"revoke revocable_provider_revoke s",
		"srcu_read_unlock s",
	}, fs.points)
	assert.Equal(t, []string{"synchronize_srcu s"}, fs.waits)
}

func TestSchedulerConcurrentRevokeBlocks(t *testing.T) {
	fs := &fakeSched{task: "t"}
	p := revocable.NewProvider(env.New(env.WithScheduler(fs)), &regs{}, revocable.WithName("s2"))
	c, err := revocable.New(p)
	require.NoError(t, err)
	fs.setTask("holder")
	_, a := c.TryAccess()
	fs.setTask("revokers")
	first, second := revokeAsync(p), revokeAsync(p)
	require.Eventually(t, func() bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		return len(fs.waits) == 2
	}, 5*time.Second, time.Millisecond)
	requireOpen(t, first, "Revoke")
	requireOpen(t, second, "Revoke")
	a.Release()
	requireClosed(t, first, "Revoke")
	requireClosed(t, second, "Revoke")
	assert.ElementsMatch(t, []string{"synchronize_srcu s2", "revocable_provider_revoke s2"}, fs.waits)
	require.NoError(t, c.Close())
	assert.True(t, p.Released())
}

func TestCloseInsideSectionWarns(t *testing.T) {
	log := trace.NewLog()
	p := revocable.NewProvider(env.New(env.WithLog(log)), &regs{}, revocable.WithName("w"))
	c, err := revocable.New(p)
	require.NoError(t, err)
	_, a := c.TryAccess()
	require.NoError(t, c.Close())
	warns := trace.Filter(log.Events(), trace.OfKind(trace.Warn))
	require.Len(t, warns, 1)
	assert.Equal(t, "revocable_deinit w: consumer closed inside a read section", warns[0].Short())

	done := revokeAsync(p)
	waitEvent(t, log, "synchronize_srcu w: grace period 1 start")
	requireOpen(t, done, "Revoke")
	a.Release() // still valid after Close
	requireClosed(t, done, "Revoke")
	assert.True(t, p.Released())
}

func TestZeroAllocs(t *testing.T) {
	p := revocable.NewProvider(nil, &regs{})
	c, err := revocable.New(p)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(1000, func() {
		_, a := c.TryAccess()
		a.Release()
	})
	assert.Zero(t, allocs)
	allocs = testing.AllocsPerRun(1000, func() {
		_ = c.OrReturn(func(*regs) error { return nil })
	})
	assert.Zero(t, allocs)
	require.NoError(t, c.Close())
	p.Revoke()
}

type fakeDev struct {
	l *devres.List
	e *env.Env
}

func (d fakeDev) Devres() *devres.List { return d.l }
func (d fakeDev) Env() *env.Env        { return d.e }

func TestDevmProviderRevokedOnRelease(t *testing.T) {
	e := env.New()
	log := e.Log()
	dev := fakeDev{devres.NewList("/sys/devices/platform/ec0"), e}
	dev.l.Attach(e)
	p, err := revocable.DevmProvider(dev, &regs{val: 5}, revocable.WithName("ec0"))
	require.NoError(t, err)
	assert.Equal(t, []string{"revocable_provider_revoke ec0"}, dev.l.Names())

	c, err := revocable.New(p)
	require.NoError(t, err)
	require.NoError(t, c.OrReturn(func(r *regs) error {
		assert.Equal(t, 5, r.val)
		return nil
	}))

	assert.Equal(t, 1, dev.l.ReleaseAll())
	assert.True(t, p.Revoked())
	assert.False(t, p.Released())
	require.ErrorIs(t, c.OrReturn(func(*regs) error { return nil }), revocable.ErrRevoked)
	res, a := c.TryAccess()
	assert.Nil(t, res)
	a.Release()
	require.NoError(t, c.Close())
	assert.True(t, p.Released())

	assert.Contains(t, trace.Shorts(log.Events()),
		"devm_action_release /sys/devices/platform/ec0: revocable_provider_revoke ec0")
}

func TestDevmProviderNoMemory(t *testing.T) {
	dev := fakeDev{devres.NewList("/sys/devices/platform/ec1"), nil}
	dev.l.SetFaultHook(func(string) error { return errors.New("injected") })
	p, err := revocable.DevmProvider(dev, &regs{}, revocable.WithName("ec1"))
	require.ErrorIs(t, err, devres.ErrNoMemory)
	require.NotNil(t, p)
	assert.True(t, p.Revoked())
	assert.True(t, p.Released())
	assert.Equal(t, 0, dev.l.Len())
	_, err = revocable.New(p)
	require.ErrorIs(t, err, revocable.ErrRevoked)
}

func TestDevmProviderNoDevice(t *testing.T) {
	_, err := revocable.DevmProvider[regs](nil, &regs{})
	require.ErrorIs(t, err, devres.ErrInvalid)
	_, err = revocable.DevmProvider(fakeDev{}, &regs{})
	require.ErrorIs(t, err, devres.ErrInvalid)
	var typedNil *device.Device
	_, err = revocable.DevmProvider(typedNil, &regs{})
	require.ErrorIs(t, err, devres.ErrInvalid)
}

// The revoke's schedule point comes after nil is published (and after the
// "start" event that marks it), before synchronize_srcu: a reader that runs
// there sees nil and does not hold the grace period up. A point before the
// publication would let a reader traced after "start" get the resource.
func TestRevokePointAfterPublication(t *testing.T) {
	log := trace.NewLog()
	fs := &fakeSched{task: "unbind"}
	p := revocable.NewProvider(env.New(env.WithLog(log), env.WithScheduler(fs)), &regs{}, revocable.WithName("pub"))
	c, err := revocable.New(p)
	require.NoError(t, err)
	var seen []string
	fs.onYield = func(pt sched.Point) {
		if pt.Kind != "revoke" {
			return
		}
		res, a := c.TryAccess() // another task, scheduled at the point
		seen = append(seen, fmt.Sprintf("res=%v readers=%d", res != nil, p.Readers()))
		a.Release()
	}
	p.Revoke()
	assert.Equal(t, []string{"res=false readers=1"}, seen)
	assert.Equal(t, []string{
		"revocable_provider_alloc pub: refs=1",
		"revocable_init pub: refs=2",
		"revocable_provider_revoke pub: start",
		"synchronize_srcu pub: grace period 1 start",
		"synchronize_srcu pub: grace period 1 done",
		"revocable_provider_revoke pub: grace period done",
	}, trace.Shorts(log.Events()))
	require.NoError(t, c.Close())
	assert.True(t, p.Released())
}

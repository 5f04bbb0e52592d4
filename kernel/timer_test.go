package kernel_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTimerFiresOnVirtualClockInSoftirqContext(t *testing.T) {
	e := env.New()
	var at []time.Duration
	var ctx []string
	tm := kernel.NewTimer(e, "poll", func(tm *kernel.Timer) {
		at = append(at, e.Now())
		ctx = e.Atomic()
		kernel.Msleep(e, time.Millisecond) // sleeping in a timer callback
	})
	assert.Equal(t, "poll", tm.Name())
	assert.False(t, tm.Mod(10*time.Millisecond))
	assert.True(t, tm.Pending())
	assert.Equal(t, 10*time.Millisecond, tm.Expires())
	assert.True(t, tm.Mod(20*time.Millisecond), "pending: re-armed")
	e.Advance(15 * time.Millisecond)
	assert.Empty(t, at, "the first expiry was replaced")
	e.Advance(5 * time.Millisecond)
	assert.Equal(t, []time.Duration{20 * time.Millisecond}, at)
	assert.Equal(t, []string{"softirq timer poll"}, ctx)
	assert.False(t, tm.Pending())
	assert.Empty(t, e.Atomic(), "the callback's context ended with it")
	kept, total := e.Reports()
	require.Equal(t, 1, total)
	assert.Equal(t, "BUG: sleeping function called from invalid context at msleep", kept[0].Title)
	assert.Contains(t, kept[0].Details, "atomic because of: softirq timer poll")
	assert.Equal(t, []string{"mod_timer: poll expires 10ms", "mod_timer: poll expires 20ms", "call_timer_fn: poll"},
		events(e, kernel.KindTimer))
}

func TestTimerRearmsItselfAndDeletes(t *testing.T) {
	e := env.New()
	n := 0
	tm := kernel.NewTimer(e, "heartbeat", func(tm *kernel.Timer) {
		n++
		tm.Mod(e.Now() + 10*time.Millisecond)
	})
	tm.Add(10 * time.Millisecond)
	e.Advance(35 * time.Millisecond)
	assert.Equal(t, 3, n)
	assert.True(t, tm.Delete())
	assert.False(t, tm.Delete())
	e.Advance(time.Second)
	assert.Equal(t, 3, n)

	tm.Add(e.Now() + time.Millisecond)
	tm.Add(e.Now() + time.Millisecond) // pending: the kernel's BUG_ON
	kept, total := e.Reports()
	require.Equal(t, 1, total)
	assert.Equal(t, "kernel BUG at kernel/time/timer.c: add_timer on a pending timer", kept[0].Title)
	assert.True(t, tm.ShutdownSync())
	assert.False(t, tm.Mod(e.Now()+time.Millisecond), "shut down: cannot be armed")
	assert.False(t, tm.Pending())
	e.Advance(time.Second)
	assert.Equal(t, 3, n)
}

// timer_delete_sync waits for a callback running on another goroutine.
func TestTimerDeleteSyncWaitsForCallback(t *testing.T) {
	e := env.New()
	started, release := make(chan struct{}), make(chan struct{})
	tm := kernel.NewTimer(e, "slow", func(*kernel.Timer) {
		close(started)
		<-release
	})
	tm.Mod(time.Millisecond)
	advanced := make(chan struct{})
	go func() { e.Advance(time.Millisecond); close(advanced) }()
	<-started
	assert.False(t, tm.Pending())
	deleted := make(chan bool)
	go func() { deleted <- tm.DeleteSync() }()
	for !strings.Contains(strings.Join(events(e, kernel.KindTimer), "\n"), "waiting for the callback") {
		time.Sleep(10 * time.Microsecond)
	}
	select {
	case <-deleted:
		t.Fatal("timer_delete_sync returned while the callback ran")
	default:
	}
	close(release)
	assert.False(t, <-deleted, "it had fired: not pending")
	<-advanced
}

func TestTimerMisuse(t *testing.T) {
	e := env.New()
	var tm *kernel.Timer
	tm = kernel.NewTimer(e, "self", func(*kernel.Timer) { tm.DeleteSync() })
	tm.Mod(time.Millisecond)
	e.Advance(time.Millisecond) // returns: no hang
	kept, total := e.Reports()
	require.Equal(t, 1, total)
	assert.Equal(t, "WARNING: possible recursive locking detected", kept[0].Title)
	assert.Contains(t, kept[0].Details, "(timer)self in timer_delete_sync")

	other := kernel.NewTimer(e, "other", func(*kernel.Timer) {})
	require.NoError(t, kernel.RequestIRQ(e, 3, func(int, any) kernel.IRQReturn {
		other.DeleteSync()
		return kernel.IRQHandled
	}, 0, "dev", nil))
	require.NoError(t, kernel.RaiseIRQ(e, 3))
	assert.Contains(t, events(e, trace.Warn), "timer_delete_sync: other: called from hard interrupt context (hardirq 3), which may deadlock")

	bad := kernel.NewTimer(e, "bad", func(*kernel.Timer) { panic("oops in timer") })
	bad.Mod(e.Now())
	e.Advance(time.Millisecond)
	kept, total = e.Reports()
	require.Equal(t, 2, total)
	assert.Equal(t, "Oops: timer bad panicked: oops in timer", kept[1].Title)
	assert.Empty(t, e.Atomic(), "the panicking callback's context ended")
}

// delVsCallback: a driver's remove deletes the timer, then frees what its
// callback reads. Both happen at 10ms of virtual time, so the explorer
// tries the callback before, during and after the removal.
func delVsCallback(sync bool) func(s *sim.Sim) {
	return func(s *sim.Sim) {
		st := s.Alloc("sensor_state")
		tm := kernel.NewTimer(s, "sample", func(*kernel.Timer) {
			kernel.CondResched(s, "sample middle")
			st.Access("read sensor_state")
		})
		tm.Mod(10 * time.Millisecond)
		s.Go("remove", func() {
			kernel.Msleep(s, 10*time.Millisecond)
			if sync {
				tm.DeleteSync()
			} else {
				tm.Delete()
			}
			st.Free()
		})
	}
}

func TestTimerDeleteSyncVsRunningCallbackExhaustive(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, delVsCallback(true))
	require.False(t, res.Failed(), "%s", res)
	assert.True(t, res.Exhausted)
	assert.GreaterOrEqual(t, res.Schedules, 3)

	res = sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, delVsCallback(false))
	require.True(t, res.Failed(), "timer_delete does not wait: %s", res)
	assert.Equal(t, sim.BugUseAfterFree, res.Failure.Failure.Kind)
	assert.Equal(t, "timer/sample", res.Failure.Failure.Task)
}

// A work item frees an object a timer callback still reads: only some
// orders of the two (both due at 10ms) touch freed memory, and the
// explorer finds one.
func TestWorkFreesWhatTimerUsesFoundByExploration(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, func(s *sim.Sim) {
		cfg := s.Alloc("config")
		tm := kernel.NewTimer(s, "watchdog", func(*kernel.Timer) { cfg.Access("read config") })
		dw := kernel.NewDelayedWork(s, "teardown", func(*kernel.DelayedWork) { cfg.Free() })
		tm.Mod(10 * time.Millisecond)
		kernel.ScheduleDelayedWork(dw, 10*time.Millisecond)
	})
	require.True(t, res.Failed(), "%s", res)
	assert.Greater(t, res.Schedules, 1, "the first schedule is clean: the timer fires before the work runs")
	f := res.Failure.Failure
	assert.Equal(t, sim.BugUseAfterFree, f.Kind)
	assert.Equal(t, "BUG: KASAN: use-after-free in read config", f.Title)
	assert.Contains(t, f.Details, "by task kworker/events")
}

func TestTimerUnderSimSleepingCallback(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		m := kernel.NewMutex(s, "m")
		tm := kernel.NewTimer(s, "t", func(*kernel.Timer) { m.Lock() })
		tm.Mod(time.Millisecond)
	})
	require.True(t, r.Failed())
	assert.Equal(t, "BUG: sleeping function called from invalid context at mutex_lock m", r.Failure.Title)
	assert.Equal(t, "timer/t", r.Failure.Task)
	assert.Contains(t, r.Failure.Details, "atomic because of: softirq timer t")
}

func TestTimerArmedFromAnotherGoroutineUnderSimWarns(t *testing.T) {
	var fired atomic.Bool
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		tm := kernel.NewTimer(s, "stray", func(*kernel.Timer) { fired.Store(true) })
		done := make(chan struct{})
		go func() { tm.Mod(time.Millisecond); close(done) }() // no task, no setup
		<-done
	})
	require.False(t, r.Failed(), "%s", r)
	assert.False(t, fired.Load())
	assert.Contains(t, r.TraceText(), "mod_timer: stray: armed outside a simulated task and its setup; it never fires")
}

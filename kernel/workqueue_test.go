package kernel_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// events returns the Short form of e's events of kind k.
func events(e *env.Env, k trace.Kind) []string {
	var out []string
	for _, ev := range trace.Filter(e.Log().Events(), trace.OfKind(k)) {
		out = append(out, ev.Short())
	}
	return out
}

// blocker is a work function that signals when it starts and returns
// when released: a work item caught running, in the plain environment.
type blocker struct {
	started chan struct{}
	release chan struct{}
	runs    atomic.Int32
}

func newBlocker() *blocker {
	return &blocker{started: make(chan struct{}, 16), release: make(chan struct{})}
}

func (b *blocker) fn(*kernel.Work) {
	b.runs.Add(1)
	b.started <- struct{}{}
	<-b.release
}

func TestScheduleWorkRunsAndFlushWaits(t *testing.T) {
	e := env.New()
	defer e.Close()
	var ran atomic.Int32
	w := kernel.NewWork(e, "probe_work", func(w *kernel.Work) {
		assert.Equal(t, "probe_work", w.Name())
		ran.Add(1)
	})
	assert.True(t, kernel.ScheduleWork(w))
	w.Flush()
	assert.Equal(t, int32(1), ran.Load(), "flush_work waited for it")
	assert.False(t, w.Flush(), "idle: nothing to wait for")
	assert.False(t, w.Pending())
	assert.Contains(t, events(e, kernel.KindWorkqueue), "schedule_work: probe_work on events")
	assert.Contains(t, events(e, kernel.KindWorkqueue), "process_one_work: probe_work")
}

func TestQueueWorkWhilePendingAndRequeueWhileRunning(t *testing.T) {
	e := env.New()
	defer e.Close()
	wq, err := kernel.AllocOrderedWorkqueue(e, "ord", 0)
	require.NoError(t, err)
	b := newBlocker()
	hold := kernel.NewWork(e, "hold", b.fn)
	var ran atomic.Int32
	w := kernel.NewWork(e, "w", func(*kernel.Work) { ran.Add(1) })
	require.True(t, wq.Queue(hold))
	<-b.started
	assert.True(t, hold.Running())
	assert.False(t, hold.Pending(), "PENDING is cleared when it starts")
	assert.True(t, wq.Queue(w))
	assert.False(t, wq.Queue(w), "already pending")
	assert.True(t, w.Pending())
	assert.True(t, wq.Queue(hold), "queued again while it runs")
	b.release <- struct{}{}
	<-b.started
	b.release <- struct{}{}
	wq.Flush()
	assert.Equal(t, int32(2), b.runs.Load(), "re-queued while running: ran again")
	assert.Equal(t, int32(1), ran.Load(), "queued twice while pending: ran once")
	wq.Destroy()
}

// A work item never runs twice at once, even on a workqueue that runs
// many items in parallel.
func TestWorkIsNotReentrant(t *testing.T) {
	e := env.New()
	defer e.Close()
	wq, err := kernel.AllocWorkqueue(e, "par", kernel.WQUnbound, 8)
	require.NoError(t, err)
	var cur, peak, runs atomic.Int32
	w := kernel.NewWork(e, "w", func(*kernel.Work) {
		n := cur.Add(1)
		if n > peak.Load() {
			peak.Store(n)
		}
		time.Sleep(50 * time.Microsecond)
		cur.Add(-1)
		runs.Add(1)
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				wq.Queue(w)
			}
		})
	}
	wg.Wait()
	wq.Flush()
	assert.Equal(t, int32(1), peak.Load())
	assert.GreaterOrEqual(t, runs.Load(), int32(1))
	wq.Destroy()
}

// Different items of an unbound workqueue do run at the same time.
func TestWorkqueueRunsItemsConcurrently(t *testing.T) {
	e := env.New()
	defer e.Close()
	wq, err := kernel.AllocWorkqueue(e, "par", kernel.WQUnbound, 2)
	require.NoError(t, err)
	both := make(chan struct{})
	var arrived atomic.Int32
	fn := func(*kernel.Work) {
		if arrived.Add(1) == 2 {
			close(both)
		}
		<-both // only returns once the other one runs too
	}
	wq.Queue(kernel.NewWork(e, "a", fn))
	wq.Queue(kernel.NewWork(e, "b", fn))
	wq.Flush()
	assert.Equal(t, int32(2), arrived.Load())
	wq.Destroy()
}

func TestCancelWorkSyncWaitsForRunningInstance(t *testing.T) {
	e := env.New()
	defer e.Close()
	b := newBlocker()
	w := kernel.NewWork(e, "w", b.fn)
	require.True(t, kernel.ScheduleWork(w))
	<-b.started
	done := make(chan bool)
	go func() { done <- w.CancelSync() }()
	for !strings.Contains(strings.Join(events(e, kernel.KindWorkqueue), "\n"), "cancel_work_sync: w, waiting for") {
		time.Sleep(10 * time.Microsecond)
	}
	select {
	case <-done:
		t.Fatal("cancel_work_sync returned while the work ran")
	default:
	}
	assert.False(t, kernel.ScheduleWork(w), "queueing fails while it is being cancelled")
	b.release <- struct{}{}
	assert.False(t, <-done, "it was running, not pending")
	assert.False(t, w.Running())
	assert.True(t, kernel.ScheduleWork(w), "queueing works again afterwards")
	<-b.started
	b.release <- struct{}{}
	w.Flush()
}

func TestCancelPendingWork(t *testing.T) {
	e := env.New()
	defer e.Close()
	wq, err := kernel.AllocOrderedWorkqueue(e, "ord", 0)
	require.NoError(t, err)
	b := newBlocker()
	hold := kernel.NewWork(e, "hold", b.fn)
	ran := false
	w := kernel.NewWork(e, "w", func(*kernel.Work) { ran = true })
	wq.Queue(hold)
	<-b.started
	wq.Queue(w)
	assert.True(t, w.Cancel())
	assert.False(t, w.Cancel())
	assert.False(t, w.Pending())
	assert.False(t, w.Flush(), "cancelled: nothing to flush")
	wq.Queue(w)
	assert.True(t, w.CancelSync(), "pending behind hold: taken off, nothing to wait for")
	b.release <- struct{}{}
	wq.Destroy()
	assert.False(t, ran, "never ran")
	assert.Contains(t, events(e, kernel.KindWorkqueue), "cancel_work: w (was pending)")
}

// flush_workqueue waits for what was queued before it, not after.
func TestFlushWorkqueueWaitsForEarlierWork(t *testing.T) {
	e := env.New()
	defer e.Close()
	wq, err := kernel.AllocOrderedWorkqueue(e, "ord", 0)
	require.NoError(t, err)
	var order []string
	var mu sync.Mutex
	rec := func(name string) *kernel.Work {
		return kernel.NewWork(e, name, func(*kernel.Work) { mu.Lock(); order = append(order, name); mu.Unlock() })
	}
	b := newBlocker()
	first := kernel.NewWork(e, "first", b.fn)
	wq.Queue(first)
	<-b.started
	for _, n := range []string{"a", "b", "c"} {
		wq.Queue(rec(n))
	}
	flushed := make(chan struct{})
	go func() { wq.Flush(); close(flushed) }()
	for !strings.Contains(strings.Join(events(e, kernel.KindWorkqueue), "\n"), "flush_workqueue: ord") {
		time.Sleep(10 * time.Microsecond)
	}
	b2 := newBlocker()
	late := kernel.NewWork(e, "late", b2.fn)
	wq.Queue(late) // after the flush started
	b.release <- struct{}{}
	<-flushed
	mu.Lock()
	assert.Equal(t, []string{"a", "b", "c"}, order, "ordered: in queue order, all before the flush returned")
	mu.Unlock()
	<-b2.started
	assert.True(t, late.Running(), "the flush did not wait for later work")
	b2.release <- struct{}{}
	wq.Destroy()
}

func TestDestroyWorkqueueDrainsAndQueueAfterIsUseAfterFree(t *testing.T) {
	e := env.New()
	wq, err := kernel.AllocWorkqueue(e, "mywq", 0, 0)
	require.NoError(t, err)
	var chain *kernel.Work
	n := 0
	chain = kernel.NewWork(e, "chain", func(w *kernel.Work) {
		if n++; n < 3 {
			assert.True(t, wq.Queue(w), "chained work is allowed while draining")
		}
	})
	wq.Queue(chain)
	wq.Destroy()
	assert.Equal(t, 3, n, "drained, chained work included")
	assert.False(t, wq.Queue(chain))
	wq.Destroy()
	kept, total := e.Reports()
	require.Equal(t, 2, total)
	assert.Equal(t, "BUG: KASAN: use-after-free in __queue_work", kept[0].Title)
	assert.Contains(t, kept[0].Details, "queue_work of chain on workqueue mywq after destroy_workqueue")
	assert.Equal(t, "BUG: KASAN: double-free in destroy_workqueue", kept[1].Title)
	assert.Contains(t, events(e, kernel.KindWorkqueue), "destroy_workqueue: mywq")
}

func TestDrainRejectsOutsideWork(t *testing.T) {
	e := env.New()
	defer e.Close()
	wq, err := kernel.AllocWorkqueue(e, "d", 0, 1)
	require.NoError(t, err)
	b := newBlocker()
	wq.Queue(kernel.NewWork(e, "hold", b.fn))
	<-b.started
	drained := make(chan struct{})
	go func() { wq.Drain(); close(drained) }()
	other := kernel.NewWork(e, "other", func(*kernel.Work) {})
	for !slices.Contains(events(e, kernel.KindWorkqueue), "drain_workqueue: d") {
		time.Sleep(10 * time.Microsecond)
	}
	assert.False(t, wq.Queue(other), "rejected while draining")
	assert.False(t, other.Pending())
	assert.Contains(t, events(e, trace.Warn), "queue_work: workqueue: cannot queue other on wq d: it is being drained")
	b.release <- struct{}{}
	<-drained
	assert.True(t, wq.Queue(other), "drained: open again")
	wq.Flush()
}

func TestFlushFromOwnWorkIsReported(t *testing.T) {
	e := env.New()
	defer e.Close()
	wq, err := kernel.AllocWorkqueue(e, "self", 0, 0)
	require.NoError(t, err)
	var flushed, cancelled bool
	w := kernel.NewWork(e, "w", func(w *kernel.Work) {
		flushed = w.Flush()
		cancelled = w.CancelSync()
		wq.Flush()
	})
	wq.Queue(w)
	wq.Flush()
	assert.False(t, flushed)
	assert.False(t, cancelled)
	kept, total := e.Reports()
	require.Equal(t, 3, total)
	for _, r := range kept {
		assert.Equal(t, "WARNING: possible recursive locking detected", r.Title)
	}
	assert.Contains(t, kept[0].Details, "(work_completion)(w) in flush_work")
	assert.Contains(t, kept[1].Details, "(work_completion)(w) in cancel_work_sync")
	assert.Contains(t, kept[2].Details, "(wq_completion)self in flush_workqueue")
}

func TestWorkPanicIsAnOops(t *testing.T) {
	e := env.New()
	defer e.Close()
	w := kernel.NewWork(e, "bad", func(*kernel.Work) { panic("NULL pointer dereference") })
	var good atomic.Bool
	ok := kernel.NewWork(e, "good", func(*kernel.Work) { good.Store(true) })
	kernel.ScheduleWork(w)
	w.Flush()
	kernel.ScheduleWork(ok)
	ok.Flush()
	assert.True(t, good.Load(), "the workqueue goes on")
	kept, total := e.Reports()
	require.Equal(t, 1, total)
	assert.Equal(t, env.BugPanic, kept[0].Kind)
	assert.Equal(t, "Oops: work bad panicked: NULL pointer dereference", kept[0].Title)
}

func TestAllocWorkqueueArguments(t *testing.T) {
	e := env.New()
	defer e.Close()
	_, err := kernel.AllocWorkqueue(e, "", 0, 0)
	assert.ErrorIs(t, err, device.ErrInvalid)
	_, err = kernel.AllocWorkqueue(e, "x", 1<<20, 0)
	assert.ErrorIs(t, err, device.ErrInvalid)
	wq, err := kernel.AllocWorkqueue(e, "x", kernel.WQMemReclaim|kernel.WQHighPri, 0)
	require.NoError(t, err)
	assert.Equal(t, kernel.WQDefaultActive, wq.MaxActive())
	assert.False(t, wq.Ordered())
	wq, err = kernel.AllocWorkqueue(e, "big", 0, 100000)
	require.NoError(t, err)
	assert.Equal(t, kernel.WQMaxActive, wq.MaxActive())
	long := strings.Repeat("n", 40)
	wq, err = kernel.AllocWorkqueue(e, long, 0, -1)
	require.NoError(t, err)
	assert.Equal(t, long[:kernel.WQNameLen-1], wq.Name())
	assert.Equal(t, 1, wq.MaxActive())
	warns := events(e, trace.Warn)
	require.Len(t, warns, 3)
	assert.Equal(t, "alloc_workqueue: workqueue: max_active 100000 requested for big is out of range, clamping between 1 and 512", warns[0])
	assert.Equal(t, "alloc_workqueue: workqueue: name exceeds WQ_NAME_LEN. Truncating to: "+long[:31], warns[1])
	ord, err := kernel.AllocOrderedWorkqueue(e, "o", 0)
	require.NoError(t, err)
	assert.True(t, ord.Ordered())
	assert.Equal(t, 1, ord.MaxActive())

	// Work of one machine is not queued on another's workqueue.
	w := kernel.NewWork(env.New(), "alien", func(*kernel.Work) {})
	assert.False(t, ord.Queue(w))
	assert.Contains(t, events(e, trace.Warn)[3], "alien belongs to another machine")
}

func TestAllocWorkqueueFaultInjection(t *testing.T) {
	r := sim.Run(sim.Config{Faults: []sim.FaultRule{{Point: kernel.FaultAllocWorkqueue, Nth: 1}}}, func(s *sim.Sim) {
		_, err := kernel.AllocWorkqueue(s, "wq", 0, 0)
		assert.ErrorIs(t, err, device.ErrNoMemory)
		assert.ErrorIs(t, err, sim.ErrInjected)
		wq, err := kernel.AllocWorkqueue(s, "wq", 0, 0)
		assert.NoError(t, err)
		assert.NotNil(t, wq)
	})
	require.False(t, r.Failed(), "%s", r)
}

func TestDelayedWorkOnVirtualClock(t *testing.T) {
	e := env.New()
	defer e.Close()
	var ran atomic.Int32
	dw := kernel.NewDelayedWork(e, "poll", func(dw *kernel.DelayedWork) {
		assert.Equal(t, "poll", dw.Name())
		ran.Add(1)
	})
	assert.True(t, kernel.ScheduleDelayedWork(dw, 10*time.Millisecond))
	assert.False(t, kernel.ScheduleDelayedWork(dw, time.Millisecond), "pending")
	assert.True(t, dw.Pending())
	assert.False(t, dw.Work().Flush(), "flush_work does not wait for the timer")
	e.Advance(9 * time.Millisecond)
	assert.True(t, dw.Pending())
	assert.Zero(t, ran.Load())
	e.Advance(time.Millisecond)
	dw.Work().Flush()
	assert.Equal(t, int32(1), ran.Load())

	// mod_delayed_work: a new delay, counted from now.
	wq := kernel.SystemWQ(e)
	assert.False(t, wq.ModDelayed(dw, 10*time.Millisecond), "idle: queued")
	e.Advance(5 * time.Millisecond)
	assert.True(t, wq.ModDelayed(dw, 10*time.Millisecond), "pending: delay replaced")
	e.Advance(9 * time.Millisecond)
	assert.Equal(t, int32(1), ran.Load(), "the first delay was replaced")
	e.Advance(time.Millisecond)
	dw.Work().Flush()
	assert.Equal(t, int32(2), ran.Load())

	// cancel_delayed_work on an armed timer; flush_delayed_work cuts the
	// delay short.
	kernel.ScheduleDelayedWork(dw, time.Second)
	assert.True(t, dw.Cancel())
	assert.False(t, dw.Cancel())
	e.Advance(2 * time.Second)
	assert.Equal(t, int32(2), ran.Load())
	kernel.ScheduleDelayedWork(dw, time.Second)
	assert.True(t, dw.Flush())
	assert.Equal(t, int32(3), ran.Load())
	kernel.ScheduleDelayedWork(dw, time.Second)
	assert.True(t, dw.CancelSync())
	assert.False(t, dw.Pending())
	assert.True(t, kernel.ScheduleDelayedWork(dw, 0), "no delay: queued at once")
	dw.Work().Flush()
	assert.Equal(t, int32(4), ran.Load())
	assert.Contains(t, events(e, kernel.KindWorkqueue), "delayed_work_timer_fn: poll on events")
}

// A delayed work item whose timer fires after its workqueue was destroyed
// queues on freed memory.
func TestDelayedWorkOutlivingItsWorkqueue(t *testing.T) {
	e := env.New()
	wq, err := kernel.AllocWorkqueue(e, "gone", 0, 0)
	require.NoError(t, err)
	dw := kernel.NewDelayedWork(e, "late", func(*kernel.DelayedWork) {})
	wq.QueueDelayed(dw, time.Millisecond)
	wq.Destroy()
	e.Advance(time.Millisecond)
	kept, total := e.Reports()
	require.Equal(t, 1, total)
	assert.Equal(t, "BUG: KASAN: use-after-free in __queue_work", kept[0].Title)
	assert.Contains(t, kept[0].Details, "delayed_work_timer_fn of late on workqueue gone")
	assert.False(t, dw.Pending(), "left sane: not pending forever")
}

func TestCloseDrainsSystemWorkqueue(t *testing.T) {
	e := env.New()
	var ran atomic.Int32
	for i := range 4 {
		kernel.ScheduleWork(kernel.NewWork(e, fmt.Sprint("w", i), func(*kernel.Work) {
			time.Sleep(time.Millisecond)
			ran.Add(1)
		}))
	}
	e.Close()
	assert.Equal(t, int32(4), ran.Load(), "Close waited for every queued work item")
	assert.False(t, kernel.ScheduleWork(kernel.NewWork(e, "late", func(*kernel.Work) {})))
	kept, _ := e.Reports()
	require.Len(t, kept, 1)
	assert.Equal(t, env.BugUseAfterFree, kept[0].Kind)
	assert.Contains(t, kept[0].Details, "schedule_work of late on workqueue events")
}

// Queued on a second workqueue while it runs on a first, a work item waits
// for the first run to end, then runs on the second.
func TestWorkQueuedOnAnotherWorkqueueWhileRunning(t *testing.T) {
	e := env.New()
	defer e.Close()
	a, err := kernel.AllocWorkqueue(e, "a", 0, 0)
	require.NoError(t, err)
	b, err := kernel.AllocWorkqueue(e, "b", 0, 0)
	require.NoError(t, err)
	bl := newBlocker()
	w := kernel.NewWork(e, "w", bl.fn)
	a.Queue(w)
	<-bl.started
	assert.True(t, b.Queue(w))
	select {
	case <-bl.started:
		t.Fatal("ran twice at once")
	case <-time.After(time.Millisecond):
	}
	bl.release <- struct{}{}
	<-bl.started // now on b
	bl.release <- struct{}{}
	b.Flush()
	assert.Equal(t, int32(2), bl.runs.Load())
	assert.Contains(t, events(e, kernel.KindWorkqueue), "queue_work: w on b")
	a.Destroy()
	b.Destroy()
}

// While cancel_delayed_work_sync waits for a running instance,
// mod_delayed_work queues nothing.
func TestModDelayedWorkDuringCancelSync(t *testing.T) {
	e := env.New()
	defer e.Close()
	started, release := make(chan struct{}), make(chan struct{})
	dw := kernel.NewDelayedWork(e, "dw", func(*kernel.DelayedWork) {
		started <- struct{}{}
		<-release
	})
	wq := kernel.SystemWQ(e)
	wq.QueueDelayed(dw, 0)
	<-started
	cancelled := make(chan bool)
	go func() { cancelled <- dw.CancelSync() }()
	for !strings.Contains(strings.Join(events(e, kernel.KindWorkqueue), "\n"), "cancel_delayed_work_sync: dw, waiting for") {
		time.Sleep(10 * time.Microsecond)
	}
	assert.False(t, wq.ModDelayed(dw, time.Millisecond), "disabled: nothing queued, nothing was pending")
	assert.False(t, dw.Pending())
	close(release)
	assert.False(t, <-cancelled)
	e.Advance(time.Second)
	assert.False(t, dw.Pending())
}

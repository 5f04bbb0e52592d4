package kernel

import (
	"fmt"
	"time"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
)

// DelayedWork is the kernel's struct delayed_work (INIT_DELAYED_WORK): a
// work item and a timer on the machine's virtual clock that queues it
// when the delay has passed (delayed_work_timer_fn, in softirq context).
// It is pending from QueueDelayed until a worker starts running it, timer
// period included. The zero value is not usable; create one with
// NewDelayedWork (or DevmDelayedWorkAutocancel).
type DelayedWork struct {
	work  Work
	timer *Timer

	// Guarded by the machine's workqueue lock.
	armed    bool       // the timer will queue the pending instance
	timerGen uint64     // the timer's arming for it
	wq       *Workqueue // where the timer queues it
}

// NewDelayedWork returns a delayed work item named name running fn
// (INIT_DELAYED_WORK) in h's machine; fn gets the item.
func NewDelayedWork(h env.Host, name string, fn func(*DelayedWork)) *DelayedWork {
	e := env.Of(h)
	dw := &DelayedWork{}
	dw.work = Work{m: machineOf(e), name: name, dw: dw, fn: func(*Work) { fn(dw) }}
	dw.timer = NewTimer(e, name, dw.timerFn)
	return dw
}

// Work returns the item's work_struct (&dwork->work), for Work's methods
// and for queueing it at once.
func (dw *DelayedWork) Work() *Work { return &dw.work }

// Name returns the item's name.
func (dw *DelayedWork) Name() string { return dw.work.name }

// Pending is delayed_work_pending: its timer is armed or it is queued,
// and it has not started running.
func (dw *DelayedWork) Pending() bool { return dw.work.Pending() }

// QueueDelayed is queue_delayed_work: it queues dw on wq once delay has
// passed on the virtual clock (at once for a delay of zero or less), and
// reports whether it did (false: already pending).
func (wq *Workqueue) QueueDelayed(dw *DelayedWork, delay time.Duration) bool {
	wq.m.e.Yield(sched.Point{Kind: "queue_delayed_work", Obj: dw.work.name})
	return wq.queueDelayed("queue_delayed_work", dw, delay, false)
}

// ModDelayed is mod_delayed_work: like QueueDelayed, but a pending dw has
// its delay replaced (counted from now) instead of being left alone. It
// reports whether dw was pending (false: it was idle and is queued now).
// While cancel_delayed_work_sync runs on dw nothing is queued.
func (wq *Workqueue) ModDelayed(dw *DelayedWork, delay time.Duration) bool {
	wq.m.e.Yield(sched.Point{Kind: "mod_delayed_work", Obj: dw.work.name})
	return wq.queueDelayed("mod_delayed_work", dw, delay, true)
}

// ScheduleDelayedWork is schedule_delayed_work: QueueDelayed on the
// item's machine's system_wq.
func ScheduleDelayedWork(dw *DelayedWork, delay time.Duration) bool {
	m := dw.work.m
	m.e.Yield(sched.Point{Kind: "queue_delayed_work", Func: "schedule_delayed_work", Obj: dw.work.name})
	return m.systemWQ().queueDelayed("schedule_delayed_work", dw, delay, false)
}

func (wq *Workqueue) queueDelayed(fn string, dw *DelayedWork, delay time.Duration, modify bool) bool {
	w := &dw.work
	if !wq.sameMachine(fn, w) {
		return false
	}
	m := wq.m
	m.mu.Lock()
	was := false
	if modify {
		was = w.grabPendingLocked()
	}
	if w.pending || w.disable > 0 || !wq.acceptsLocked(fn, w) {
		m.mu.Unlock()
		m.q.WakeAll()
		return was
	}
	w.pending = true
	if delay <= 0 {
		start := wq.insertLocked(w)
		m.mu.Unlock()
		m.q.WakeAll()
		wq.emit(fn, fmt.Sprintf("%s on %s", w.name, wq.name))
		wq.startWorkers(start)
		return was || !modify
	}
	gen, _, spawn, ok := dw.timer.arm(m.e.Now() + delay)
	dw.armed, dw.timerGen, dw.wq, w.wq = ok, gen, wq, wq
	if !ok { // the timer was shut down: cannot happen, it is the item's own
		w.pending = false
	}
	m.mu.Unlock()
	m.q.WakeAll()
	wq.emit(fn, fmt.Sprintf("%s on %s in %v", w.name, wq.name, delay))
	if spawn {
		dw.timer.startTask()
	}
	return was || !modify
}

// timerFn is delayed_work_timer_fn: the delay has passed, queue the item
// unless it was cancelled or re-armed meanwhile.
func (dw *DelayedWork) timerFn(t *Timer) {
	w := &dw.work
	m := w.m
	m.mu.Lock()
	if !dw.armed || dw.timerGen != t.firingGen() {
		m.mu.Unlock()
		return
	}
	dw.armed = false
	wq := dw.wq
	if !wq.acceptsLocked("delayed_work_timer_fn", w) {
		w.pending = false
		m.mu.Unlock()
		m.q.WakeAll()
		return
	}
	start := wq.insertLocked(w)
	m.mu.Unlock()
	m.q.WakeAll()
	wq.emit("delayed_work_timer_fn", w.name+" on "+wq.name)
	wq.startWorkers(start)
}

// disarmLocked stops the item's timer (the pending instance is being
// taken away).
func (dw *DelayedWork) disarmLocked() {
	if dw.armed {
		dw.armed = false
		dw.timer.disarm()
	}
}

// Cancel is cancel_delayed_work: it disarms the timer or takes the item
// off its queue and reports whether it was pending. It does not wait for
// a running instance.
func (dw *DelayedWork) Cancel() bool {
	m := dw.work.m
	m.e.Yield(sched.Point{Kind: "cancel_delayed_work", Obj: dw.work.name})
	m.mu.Lock()
	was := dw.work.grabPendingLocked()
	m.mu.Unlock()
	m.q.WakeAll()
	if was {
		dw.work.emit("cancel_delayed_work", dw.work.name+" (was pending)")
	}
	return was
}

// CancelSync is cancel_delayed_work_sync: Cancel, then wait until a
// running instance has finished; meanwhile queueing or re-arming the item
// fails. It reports whether the item was pending. It may sleep.
func (dw *DelayedWork) CancelSync() bool { return dw.work.cancelSync("cancel_delayed_work_sync") }

// Flush is flush_delayed_work: an armed timer is cut short (the item is
// queued at once), then Work().Flush. It reports whether it waited.
func (dw *DelayedWork) Flush() bool {
	w := &dw.work
	m := w.m
	m.mu.Lock()
	start := 0
	var wq *Workqueue
	if dw.armed {
		dw.disarmLocked()
		wq = dw.wq
		if wq.acceptsLocked("flush_delayed_work", w) {
			start = wq.insertLocked(w)
		} else {
			w.pending, wq = false, nil
		}
	}
	m.mu.Unlock()
	if wq != nil {
		wq.startWorkers(start)
	}
	return w.flush("flush_delayed_work")
}

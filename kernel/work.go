package kernel

import (
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
)

// Work is the kernel's struct work_struct: a function to run later on a
// workqueue's worker (INIT_WORK). Queue it with Workqueue.Queue
// (queue_work) or ScheduleWork (schedule_work, on system_wq); it is
// pending from then until a worker starts running it, and queueing a
// pending item does nothing. Flush waits for it, Cancel takes it off its
// queue, CancelSync also waits for a running instance. The zero value is
// not usable; create one with NewWork (or DevmWorkAutocancel).
type Work struct {
	m    *machine
	name string
	fn   func(*Work)
	dw   *DelayedWork // the delayed work this is the work of, if any

	// Guarded by m.mu.
	pending bool       // WORK_STRUCT_PENDING: queued, or its timer armed
	queued  bool       // on wq.list
	wq      *Workqueue // the workqueue of the queued (or last) instance
	seq     uint64     // wq.seq of the queued instance
	running bool       // a worker runs fn
	runWQ   *Workqueue
	runSeq  uint64
	runner  env.Holder
	queues  uint64 // instances put on a list, ever
	retired uint64 // instances run to the end or taken off a list, ever
	disable int    // cancel_work_sync calls in progress: queueing fails
}

// NewWork returns a work item named name running fn (INIT_WORK) in h's
// machine; fn gets the item, as a work_func_t does. fn runs in process
// context on a worker: it may sleep.
func NewWork(h env.Host, name string, fn func(*Work)) *Work {
	return &Work{m: machineOf(env.Of(h)), name: name, fn: fn}
}

// Name returns the work item's name.
func (w *Work) Name() string { return w.name }

// Pending is work_pending: the item is queued, or its timer is armed (a
// delayed work), and has not started running.
func (w *Work) Pending() bool {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	return w.pending
}

// Running reports whether a worker runs the item now (work_busy's
// WORK_BUSY_RUNNING).
func (w *Work) Running() bool {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	return w.running
}

// ScheduleWork is schedule_work: Queue on the item's machine's system_wq.
func ScheduleWork(w *Work) bool {
	wq := w.m.systemWQ()
	w.m.e.Yield(sched.Point{Kind: "queue_work", Func: "schedule_work", Obj: w.name})
	return wq.queue("schedule_work", w)
}

// runnerName names the task running the item, for deadlock reports.
func (w *Work) runnerName() string {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	if !w.running {
		return ""
	}
	return w.runner.String()
}

// Flush is flush_work: it waits until the item's last queued instance
// has finished running and reports whether it waited (false: the item was
// idle, or only its delay timer was armed). It may sleep. Called from the
// item itself it would wait for itself: lockdep reports it and it returns
// false.
func (w *Work) Flush() bool { return w.flush("flush_work") }

func (w *Work) flush(fn string) bool {
	m := w.m
	e := m.e
	e.MightSleep(fn + " " + w.name)
	e.Yield(sched.Point{Kind: fn, Obj: w.name})
	m.mu.Lock()
	if !w.queued && !w.running {
		m.mu.Unlock()
		return false
	}
	if w.running && e.IsSelf(w.runner) {
		m.mu.Unlock()
		w.selfWait(fn)
		return false
	}
	target := w.queues
	m.mu.Unlock()
	w.emit(fn, w.name)
	m.q.block(sched.Wait{What: fn + " " + w.name, Holder: w.runnerName}, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return w.retired >= target
	})
	return true
}

func (w *Work) emit(fn, msg string) { w.m.emit(KindWorkqueue, fn, msg) }

// selfWait reports a work item waiting for itself (lockdep's recursive
// acquisition of the work's lockdep map in __flush_work).
func (w *Work) selfWait(fn string) {
	e := w.m.e
	e.Report("lockdep", &env.Report{Kind: env.BugLockdep, Title: "WARNING: possible recursive locking detected",
		Details: fmt.Sprintf("task %s is trying to acquire (work_completion)(%s) in %s but already holds it: the work item waits for itself.\n*** DEADLOCK ***\n",
			env.OrSetup(e.Current()), w.name, fn)})
}

// Cancel is cancel_work: it takes the item off its queue if it is pending
// and reports whether it was. It does not wait for a running instance.
func (w *Work) Cancel() bool {
	m := w.m
	m.e.Yield(sched.Point{Kind: "cancel_work", Obj: w.name})
	m.mu.Lock()
	was := w.grabPendingLocked()
	m.mu.Unlock()
	m.q.WakeAll()
	if was {
		w.emit("cancel_work", w.name+" (was pending)")
	}
	return was
}

// CancelSync is cancel_work_sync: it takes the item off its queue and
// waits until a running instance has finished, and reports whether the
// item was pending. Meanwhile queueing the item fails, so an item that
// queues itself ends too. It may sleep. Called from the item itself it
// would wait for itself: lockdep reports it, and the pending instance is
// cancelled without waiting.
func (w *Work) CancelSync() bool { return w.cancelSync("cancel_work_sync") }

func (w *Work) cancelSync(fn string) bool {
	m := w.m
	e := m.e
	e.MightSleep(fn + " " + w.name)
	e.Yield(sched.Point{Kind: fn, Obj: w.name})
	m.mu.Lock()
	if w.running && e.IsSelf(w.runner) {
		was := w.grabPendingLocked()
		m.mu.Unlock()
		m.q.WakeAll()
		w.selfWait(fn)
		return was
	}
	w.disable++
	was := w.grabPendingLocked()
	running := w.running
	m.mu.Unlock()
	m.q.WakeAll()
	msg := w.name
	if was {
		msg += " (was pending)"
	}
	if running {
		msg += ", waiting for " + w.runnerName()
	}
	w.emit(fn, msg)
	defer func() {
		m.mu.Lock()
		w.disable--
		m.mu.Unlock()
	}()
	m.q.block(sched.Wait{What: fn + " " + w.name, Holder: w.runnerName}, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return !w.running
	})
	return was
}

// grabPendingLocked is try_to_grab_pending: it takes the pending instance
// away (off its queue, or its delay timer disarmed) and reports whether
// there was one.
func (w *Work) grabPendingLocked() bool {
	if !w.pending {
		return false
	}
	w.pending = false
	if w.queued {
		wq := w.wq
		for i, x := range wq.list {
			if x == w {
				wq.list = append(wq.list[:i], wq.list[i+1:]...)
				break
			}
		}
		w.queued = false
		w.retired++
		return true
	}
	if w.dw != nil {
		w.dw.disarmLocked()
	}
	return true
}

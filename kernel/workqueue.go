package kernel

import (
	"fmt"
	"math"
	"strings"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// WQFlags are alloc_workqueue's flags (WQ_*). Only the ordering and the
// concurrency limit change what a simulated workqueue does; the others
// are accepted for the kernel's sake and recorded.
type WQFlags uint

// Workqueue flags, the kernel's values.
const (
	WQUnbound        WQFlags = 1 << 1 // WQ_UNBOUND: not bound to a CPU
	WQFreezable      WQFlags = 1 << 2 // WQ_FREEZABLE
	WQMemReclaim     WQFlags = 1 << 3 // WQ_MEM_RECLAIM: has a rescuer
	WQHighPri        WQFlags = 1 << 4 // WQ_HIGHPRI
	WQCPUIntensive   WQFlags = 1 << 5 // WQ_CPU_INTENSIVE
	WQSysfs          WQFlags = 1 << 6 // WQ_SYSFS
	WQPowerEfficient WQFlags = 1 << 7 // WQ_POWER_EFFICIENT

	wqKnown = WQUnbound | WQFreezable | WQMemReclaim | WQHighPri | WQCPUIntensive | WQSysfs | WQPowerEfficient
)

// Workqueue limits, the kernel's.
const (
	// WQMaxActive is WQ_MAX_ACTIVE: the most work items of one workqueue
	// that run at once.
	WQMaxActive = 512
	// WQDefaultActive is WQ_DFL_ACTIVE, what max_active 0 means.
	WQDefaultActive = WQMaxActive / 2
	// WQNameLen is WQ_NAME_LEN: longer names are truncated.
	WQNameLen = 32
)

// Workqueue is the kernel's struct workqueue_struct: work items queued on
// it (Queue, QueueDelayed) run on its workers, at most max_active at
// once, an ordered workqueue's one at a time in queue order. A work item
// never runs twice at once (the kernel guarantees this per workqueue;
// here it holds across workqueues too); queued again while it runs, it
// runs again after.
//
// Workers exist only while there is work: under the simulator each is a
// task named "kworker/<name>", started as work is queued (the start is a
// schedule point) and ending when the queue is empty, so the explorer
// interleaves work with every other task and a run ends when its work is
// done. In the plain environment each worker is a goroutine, with real
// concurrency, and none outlives Destroy or the machine
// (drvsim.System.Close destroys every workqueue left, system_wq too).
//
// Create one with AllocWorkqueue or AllocOrderedWorkqueue (or the devm_
// forms); SystemWQ is the machine's system_wq.
type Workqueue struct {
	m       *machine
	name    string
	flags   WQFlags
	max     int
	ordered bool

	// Guarded by m.mu.
	list      []*Work // queued instances, in queue order
	active    []*Work // instances running on this workqueue's workers
	workers   int     // worker tasks or goroutines alive
	starting  int     // of which have not picked a work item yet
	seq       uint64  // queue instances so far (flush_workqueue's colour)
	draining  int
	destroyed bool
}

// AllocWorkqueue is alloc_workqueue: a workqueue named name in h's
// machine running at most maxActive of its work items at once (0 means
// WQDefaultActive; values outside [1, WQMaxActive] are clamped with the
// kernel's warning). It fails with device.ErrInvalid for an empty name or
// unknown flags and with device.ErrNoMemory when the simulator injects a fault at
// FaultAllocWorkqueue. A name longer than WQNameLen-1 is truncated with
// the kernel's warning.
func AllocWorkqueue(h env.Host, name string, flags WQFlags, maxActive int) (*Workqueue, error) {
	return allocWorkqueue(env.Of(h), "alloc_workqueue", name, flags, maxActive, false)
}

// AllocOrderedWorkqueue is alloc_ordered_workqueue: a workqueue that runs
// one work item at a time, in the order they were queued
// (WQ_UNBOUND | __WQ_ORDERED, max_active 1).
func AllocOrderedWorkqueue(h env.Host, name string, flags WQFlags) (*Workqueue, error) {
	return allocWorkqueue(env.Of(h), "alloc_ordered_workqueue", name, flags|WQUnbound, 1, true)
}

func allocWorkqueue(e *env.Env, fn, name string, flags WQFlags, maxActive int, ordered bool) (*Workqueue, error) {
	if name == "" {
		return nil, fmt.Errorf("%s: empty name: %w", fn, device.ErrInvalid)
	}
	if flags&^wqKnown != 0 {
		return nil, fmt.Errorf("%s %s: unknown flags %#x: %w", fn, name, uint(flags&^wqKnown), device.ErrInvalid)
	}
	if err := e.Fault(FaultAllocWorkqueue); err != nil {
		return nil, fmt.Errorf("%s %s: %w (%w)", fn, name, device.ErrNoMemory, err)
	}
	log := e.Log()
	if len(name) > WQNameLen-1 {
		name = name[:WQNameLen-1]
		log.Emit(trace.Event{Kind: trace.Warn, Func: fn, Msg: "workqueue: name exceeds WQ_NAME_LEN. Truncating to: " + name})
	}
	switch {
	case maxActive == 0:
		maxActive = WQDefaultActive
	case maxActive < 1 || maxActive > WQMaxActive:
		log.Emit(trace.Event{Kind: trace.Warn, Func: fn, Msg: fmt.Sprintf(
			"workqueue: max_active %d requested for %s is out of range, clamping between 1 and %d", maxActive, name, WQMaxActive)})
		maxActive = min(max(maxActive, 1), WQMaxActive)
	}
	m := machineOf(e)
	wq := &Workqueue{m: m, name: name, flags: flags, max: maxActive, ordered: ordered}
	m.mu.Lock()
	m.wqs = append(m.wqs, wq)
	m.mu.Unlock()
	log.Emit(trace.Event{Kind: KindWorkqueue, Func: fn, Msg: fmt.Sprintf("%s max_active=%d", name, maxActive)})
	return wq, nil
}

// SystemWQ returns h's machine's system_wq ("events"), where ScheduleWork
// and ScheduleDelayedWork queue. It is created on first use and destroyed
// by the machine's Close (drvsim.System.Close).
func SystemWQ(h env.Host) *Workqueue { return machineOf(env.Of(h)).systemWQ() }

func (m *machine) systemWQ() *Workqueue {
	m.mu.Lock()
	wq := m.system
	m.mu.Unlock()
	if wq != nil {
		return wq
	}
	wq = &Workqueue{m: m, name: "events", max: WQDefaultActive}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.system == nil {
		m.system = wq
		m.wqs = append(m.wqs, wq)
	}
	return m.system
}

// Name returns the workqueue's name.
func (wq *Workqueue) Name() string { return wq.name }

// Ordered reports whether the workqueue runs one item at a time in order.
func (wq *Workqueue) Ordered() bool { return wq.ordered }

// MaxActive returns the workqueue's concurrency limit.
func (wq *Workqueue) MaxActive() int { return wq.max }

func (wq *Workqueue) emit(fn, msg string) { wq.m.emit(KindWorkqueue, fn, msg) }

// Queue is queue_work: it queues w on wq unless w is pending already, and
// reports whether it did (false: pending, or being cancelled by
// cancel_work_sync). A work item queued while it runs runs again after.
// Queueing on a workqueue being drained is allowed only from its own work
// items (chained work); otherwise, or on a destroyed workqueue, it is
// reported and nothing is queued.
func (wq *Workqueue) Queue(w *Work) bool {
	e := wq.m.e
	e.Yield(sched.Point{Kind: "queue_work", Obj: w.name})
	return wq.queue("queue_work", w)
}

// queue queues w's instance unless it is pending; fn names the caller.
func (wq *Workqueue) queue(fn string, w *Work) bool {
	if !wq.sameMachine(fn, w) {
		return false
	}
	m := wq.m
	m.mu.Lock()
	if w.pending || w.disable > 0 || !wq.acceptsLocked(fn, w) {
		m.mu.Unlock()
		return false
	}
	w.pending = true
	start := wq.insertLocked(w)
	m.mu.Unlock()
	wq.emit(fn, w.name+" on "+wq.name)
	wq.startWorkers(start)
	return true
}

// sameMachine reports whether w belongs to wq's machine, reporting the
// misuse when it does not: the two machines share nothing.
func (wq *Workqueue) sameMachine(fn string, w *Work) bool {
	if w.m == wq.m {
		return true
	}
	wq.m.e.Log().Emit(trace.Event{Kind: trace.Warn, Func: fn,
		Msg: fmt.Sprintf("%s belongs to another machine than workqueue %s: not queued", w.name, wq.name)})
	return false
}

// acceptsLocked reports whether wq takes new work from the caller,
// reporting a destroyed or draining workqueue; m.mu is held and is
// released and retaken around the report.
func (wq *Workqueue) acceptsLocked(fn string, w *Work) bool {
	switch {
	case wq.destroyed:
		wq.m.mu.Unlock()
		wq.m.e.Report("kasan_report", &env.Report{Kind: env.BugUseAfterFree,
			Title: "BUG: KASAN: use-after-free in __queue_work",
			Details: fmt.Sprintf("%s of %s on workqueue %s after destroy_workqueue freed it.\nCall trace:\n%s\n",
				fn, w.name, wq.name, strings.Join(env.Callers(2), "\n"))})
		wq.m.mu.Lock()
		return false
	case wq.draining > 0 && !wq.isWorkerLocked():
		wq.m.mu.Unlock()
		wq.m.e.Log().Emit(trace.Event{Kind: trace.Warn, Func: fn,
			Msg: fmt.Sprintf("workqueue: cannot queue %s on wq %s: it is being drained", w.name, wq.name)})
		wq.m.mu.Lock()
		return false
	}
	return true
}

// insertLocked puts w's new instance on the list and reports how many
// workers to start.
func (wq *Workqueue) insertLocked(w *Work) int {
	wq.seq++
	w.wq, w.seq, w.queued = wq, wq.seq, true
	w.queues++
	wq.list = append(wq.list, w)
	return wq.needWorkersLocked()
}

// needWorkersLocked counts the workers to start so that every item that
// can run has a worker, within max_active, and reserves them.
func (wq *Workqueue) needWorkersLocked() int {
	runnable := 0
	for _, w := range wq.list {
		if w.running {
			if wq.ordered {
				break
			}
			continue
		}
		runnable++
		if wq.ordered {
			break
		}
	}
	n := min(runnable-wq.starting, wq.max-wq.workers)
	if n <= 0 {
		return 0
	}
	wq.workers += n
	wq.starting += n
	return n
}

// isWorkerLocked reports whether the caller is one of wq's workers,
// running one of its work items.
func (wq *Workqueue) isWorkerLocked() bool {
	for _, w := range wq.active {
		if wq.m.e.IsSelf(w.runner) {
			return true
		}
	}
	return false
}

// startWorkers starts n workers: simulated tasks named after the
// workqueue under a simulator, goroutines otherwise (also when the
// simulator cannot start a task for this caller).
func (wq *Workqueue) startWorkers(n int) {
	for range n {
		if !wq.m.e.Spawn("kworker/"+wq.name, wq.worker, wq.abandonWorker) {
			go wq.worker()
		}
	}
}

// abandonWorker gives back the reservation of a worker task a failed run
// never started.
func (wq *Workqueue) abandonWorker() {
	wq.m.mu.Lock()
	wq.workers--
	wq.starting--
	wq.m.mu.Unlock()
}

// worker is a kworker: it runs the workqueue's items until none is left
// that it may run, then ends (worker_thread, without the idle list).
func (wq *Workqueue) worker() {
	m := wq.m
	m.mu.Lock()
	wq.starting--
	for {
		w := wq.pickLocked()
		if w == nil {
			wq.workers--
			m.mu.Unlock()
			m.q.WakeAll()
			return
		}
		m.mu.Unlock()
		wq.process(w)
		m.mu.Lock()
	}
}

// pickLocked takes the first item a worker may run (not running
// elsewhere; for an ordered workqueue only the head) off the list, and
// marks it running on the caller: the kernel clears PENDING here, so the
// item can be queued again while it runs.
func (wq *Workqueue) pickLocked() *Work {
	for i, w := range wq.list {
		if w.running {
			if wq.ordered {
				return nil
			}
			continue
		}
		wq.list = append(wq.list[:i], wq.list[i+1:]...)
		w.queued, w.pending = false, false
		w.running, w.runWQ, w.runSeq, w.runner = true, wq, w.seq, wq.m.e.Holder()
		wq.active = append(wq.active, w)
		return w
	}
	return nil
}

// process is process_one_work: it runs w's function, then retires the
// instance and wakes whoever waits for it. Between taking the item
// (PENDING cleared: cancel_work finds nothing to cancel) and calling its
// function is a schedule point, the window in which a driver that
// cancels without waiting frees what the function uses.
func (wq *Workqueue) process(w *Work) {
	m := wq.m
	e := m.e
	defer func() {
		m.mu.Lock()
		w.running, w.runWQ, w.runner = false, nil, env.Holder{}
		w.retired++
		for i, a := range wq.active {
			if a == w {
				wq.active = append(wq.active[:i], wq.active[i+1:]...)
				break
			}
		}
		// Queued again meanwhile on another workqueue: its workers may
		// have skipped it while it ran here.
		var other *Workqueue
		var start int
		if w.queued && w.wq != wq {
			other = w.wq
			start = other.needWorkersLocked()
		}
		m.mu.Unlock()
		m.q.WakeAll()
		if other != nil {
			other.startWorkers(start)
		}
	}()
	if e.Scheduler() == nil {
		defer oops(e, "work "+w.name)
	}
	e.Yield(sched.Point{Kind: "process_one_work", Obj: w.name})
	wq.emit("process_one_work", w.name)
	w.fn(w)
}

// oops turns a panic of a user callback on a goroutine of the plain
// environment into a report (the kernel's Oops), so the worker, timer or
// interrupt goes on. Under a simulator a task's panic fails the run
// instead, and the simulator's own unwinding must not be caught.
func oops(e *env.Env, what string) {
	if r := recover(); r != nil {
		e.Report("oops", &env.Report{Kind: env.BugPanic, Title: fmt.Sprintf("Oops: %s panicked: %v", what, r),
			Details: fmt.Sprintf("panic in %s: %v\n", what, r)})
	}
}

// Flush is flush_workqueue: it waits until every work item queued on wq
// before the call has finished (items queued later are not waited for).
// It may sleep. Called from one of wq's own work items it would wait for
// itself: lockdep reports it and it returns at once.
func (wq *Workqueue) Flush() {
	m := wq.m
	e := m.e
	e.MightSleep("flush_workqueue " + wq.name)
	e.Yield(sched.Point{Kind: "flush_workqueue", Obj: wq.name})
	m.mu.Lock()
	if wq.isWorkerLocked() {
		m.mu.Unlock()
		wq.selfWait("flush_workqueue")
		return
	}
	target := wq.seq
	m.mu.Unlock()
	wq.emit("flush_workqueue", wq.name)
	m.q.block(sched.Wait{What: "flush_workqueue " + wq.name, Holder: wq.holders}, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return wq.oldestLocked() > target
	})
}

// oldestLocked is the queue sequence of the oldest instance not finished
// (queued or running), MaxUint64 when none.
func (wq *Workqueue) oldestLocked() uint64 {
	oldest := uint64(math.MaxUint64)
	if len(wq.list) > 0 {
		oldest = wq.list[0].seq
	}
	for _, w := range wq.active {
		oldest = min(oldest, w.runSeq)
	}
	return oldest
}

// holders names the tasks running wq's items, for deadlock reports.
func (wq *Workqueue) holders() string {
	wq.m.mu.Lock()
	defer wq.m.mu.Unlock()
	var names []string
	for _, w := range wq.active {
		names = append(names, w.runner.String())
	}
	return strings.Join(names, ", ")
}

// selfWait reports a wait of a workqueue's own work item for the
// workqueue (lockdep's recursive acquisition of its lockdep map).
func (wq *Workqueue) selfWait(fn string) {
	e := wq.m.e
	e.Report("lockdep", &env.Report{Kind: env.BugLockdep, Title: "WARNING: possible recursive locking detected",
		Details: fmt.Sprintf("task %s is trying to acquire (wq_completion)%s in %s but already holds it: a work item of the workqueue waits for the workqueue.\n*** DEADLOCK ***\n",
			env.OrSetup(e.Current()), wq.name, fn)})
}

// Drain is drain_workqueue: it waits until wq is empty, work its own
// items queue meanwhile (chained work) included; others may not queue on
// it meanwhile. It may sleep.
func (wq *Workqueue) Drain() { wq.drain("drain_workqueue") }

func (wq *Workqueue) drain(fn string) bool {
	m := wq.m
	e := m.e
	e.MightSleep(fn + " " + wq.name)
	e.Yield(sched.Point{Kind: fn, Obj: wq.name})
	m.mu.Lock()
	if wq.isWorkerLocked() {
		m.mu.Unlock()
		wq.selfWait(fn)
		return false
	}
	wq.draining++
	m.mu.Unlock()
	if fn == "drain_workqueue" {
		wq.emit(fn, wq.name)
	}
	m.q.block(sched.Wait{What: fn + " " + wq.name, Holder: wq.holders}, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(wq.list) == 0 && len(wq.active) == 0 && wq.workers == 0
	})
	m.mu.Lock()
	wq.draining--
	m.mu.Unlock()
	return true
}

// Destroy is destroy_workqueue: it drains wq and frees it. Queueing on it
// afterwards is a use-after-free (reported; nothing is queued), which is
// what a delayed work item whose timer is still armed does when it fires.
// Destroying twice is reported.
func (wq *Workqueue) Destroy() { wq.destroy("destroy_workqueue") }

func (wq *Workqueue) destroy(fn string) {
	m := wq.m
	m.mu.Lock()
	if wq.destroyed {
		m.mu.Unlock()
		m.e.Report("kasan_report", &env.Report{Kind: env.BugDoubleFree, Title: "BUG: KASAN: double-free in destroy_workqueue",
			Details: fmt.Sprintf("workqueue %s destroyed twice\n", wq.name)})
		return
	}
	m.mu.Unlock()
	if !wq.drain(fn) {
		return
	}
	m.mu.Lock()
	wq.destroyed = true
	for i, x := range m.wqs {
		if x == wq {
			m.wqs = append(m.wqs[:i], m.wqs[i+1:]...)
			break
		}
	}
	m.mu.Unlock()
	wq.emit(fn, wq.name)
}

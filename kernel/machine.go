package kernel

import (
	"sync"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// Trace kinds of the kernel library.
const (
	// KindWorkqueue is the kind of workqueue events: alloc_workqueue,
	// queue_work, process_one_work, flush_work, cancel_work_sync, ...
	KindWorkqueue trace.Kind = "workqueue"
	// KindTimer is the kind of timer events: mod_timer, timer_delete,
	// call_timer_fn.
	KindTimer trace.Kind = "timer"
	// KindIRQ is the kind of interrupt events: request_irq, free_irq,
	// handle_irq_event, irq_thread_fn, disable_irq, enable_irq,
	// handle_bad_irq, note_interrupt.
	KindIRQ trace.Kind = "irq"
	// KindPrintk is the kind of dev_info, dev_warn, dev_err and dev_dbg
	// lines; the event's Func names the level.
	KindPrintk trace.Kind = "printk"
	// KindKref is the kind of a kref's release at its last kref_put.
	KindKref trace.Kind = "kref"
)

// machine is the kernel library's state of one simulated machine, kept in
// its environment (env.Env.Local), never in a process-global table: the
// lock and wait queue of every workqueue and work item of the machine
// (the kernel has a lock per worker pool; one pool is enough here), the
// live workqueues with system_wq among them, and the interrupt controller.
// env.Env.Close, which drvsim.System.Close calls, drains the workqueues
// and waits for interrupt threads, so no goroutine outlives the machine.
type machine struct {
	e *env.Env
	q *WaitQueue // woken at every workqueue state change

	mu     sync.Mutex
	wqs    []*Workqueue // live workqueues, in allocation order
	system *Workqueue
	irq    *irqChip
	closed bool

	registered sync.Once
}

type machineKey struct{}

// machineOf returns the kernel library's state of e's machine.
func machineOf(e *env.Env) *machine {
	m := e.Local(machineKey{}, func() any {
		return &machine{e: e, q: NewWaitQueue(e, "workqueue")}
	}).(*machine)
	m.registered.Do(func() { e.AtClose(m.close) })
	return m
}

// close shuts the machine's kernel state down (env.Env.Close): every live
// workqueue, system_wq included, is drained and destroyed, and interrupt
// threads are waited for. Later queue_work calls warn.
func (m *machine) close() {
	m.mu.Lock()
	m.closed = true
	wqs := append([]*Workqueue(nil), m.wqs...)
	chip := m.irq
	m.mu.Unlock()
	if m.e.Simulated() {
		// A simulated run's workers and threads are its tasks, which end
		// with the run (or were unwound by its failure): nothing to wait
		// for, and no task to wait in.
		m.mu.Lock()
		for _, wq := range wqs {
			wq.destroyed = true
		}
		m.wqs = nil
		m.mu.Unlock()
		if chip != nil {
			chip.mu.Lock()
			chip.closed = true
			chip.mu.Unlock()
		}
		return
	}
	for i := len(wqs) - 1; i >= 0; i-- {
		wqs[i].destroy("destroy_workqueue")
	}
	if chip != nil {
		chip.close()
	}
}

// emit records an event of the machine's kernel library.
func (m *machine) emit(kind trace.Kind, fn, msg string) {
	m.e.Log().Emit(trace.Event{Kind: kind, Func: fn, Msg: msg})
}

package kernel

import (
	"fmt"
	"time"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// The flow of one interrupt (kernel/irq/chip.c handle_edge_irq,
// handle.c handle_irq_event, manage.c irq_thread, spurious.c
// note_interrupt): the line's handlers run one after the other in hard
// interrupt context; a raise while they run, or while the line is
// disabled or masked for a oneshot thread, is kept pending (one bit, as an
// edge interrupt latches) and delivered when the line can take it.

// RaiseIRQ is simulated hardware asserting line irq of h's machine
// (generic_handle_irq): every handler on the line runs, in hard interrupt
// context (sleeping there is reported). Under the simulator the handlers
// run as a new task "hardirq/<irq>", so they interleave with process
// context as a real interrupt does (the start is a schedule point); in
// the plain environment they run on the caller, as if its CPU took the
// interrupt, before RaiseIRQ returns; call it from code that models
// hardware, not from inside a spinlock section. A line without handlers
// counts a spurious interrupt (handle_bad_irq). It fails with device.ErrInvalid
// for a number outside [1, NrIRQs).
func RaiseIRQ(h env.Host, irq int) error {
	if !validIRQ(irq) {
		return fmt.Errorf("raise irq %d: no such interrupt (valid: 1 to %d): %w", irq, NrIRQs-1, device.ErrInvalid)
	}
	c := chipOf(h)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.emit(trace.Warn, "generic_handle_irq", fmt.Sprintf("irq %d raised after the machine shut down: dropped", irq))
		return nil
	}
	d := c.descLocked(irq)
	d.stats.Count++
	switch {
	case len(d.actions) == 0:
		d.stats.Spurious++
		n := d.stats.Spurious
		c.mu.Unlock()
		c.emit(KindIRQ, "handle_bad_irq", fmt.Sprintf("irq %d: no handler, spurious interrupt #%d", irq, n))
		return nil
	case d.depth > 0 || d.oneshot > 0:
		d.pending = true
		c.mu.Unlock()
		c.emit(KindIRQ, "handle_edge_irq", fmt.Sprintf("irq %d disabled: pending", irq))
		return nil
	case d.handler:
		d.pending = true
		c.mu.Unlock()
		c.emit(KindIRQ, "handle_edge_irq", fmt.Sprintf("irq %d in progress: pending", irq))
		return nil
	}
	d.handler = true
	c.mu.Unlock()
	c.deliver(d)
	return nil
}

// deliverableLocked reports whether the line can take an interrupt now.
func (d *irqDesc) deliverableLocked() bool {
	return len(d.actions) > 0 && d.depth == 0 && d.oneshot == 0
}

// replayLocked reports whether a pending interrupt should be delivered
// now that the line may take it, and reserves the handler for it.
func (c *irqChip) replayLocked(d *irqDesc) bool {
	if !d.pending || !d.deliverableLocked() || d.handler {
		return false
	}
	d.pending, d.handler = false, true
	return true
}

// deliver runs the line's handlers (reserved by the caller): as a new
// task under a simulator, on the caller otherwise.
func (c *irqChip) deliver(d *irqDesc) {
	abandon := func() {
		c.mu.Lock()
		d.handler = false
		c.mu.Unlock()
	}
	if c.m.e.Spawn(fmt.Sprintf("hardirq/%d", d.irq), func() { c.handle(d) }, abandon) {
		return
	}
	c.handle(d)
}

// handle is the line's flow handler (handle_edge_irq): it runs the
// handlers, and again while raises came in meanwhile.
func (c *irqChip) handle(d *irqDesc) {
	e := c.m.e
	for first := true; ; first = false {
		c.mu.Lock()
		if !d.deliverableLocked() {
			// Disabled or freed between the raise and now.
			spurious := first && len(d.actions) == 0
			if spurious {
				d.stats.Spurious++
			} else if first {
				d.pending = true
			}
			d.handler = false
			c.mu.Unlock()
			c.q.WakeAll()
			if spurious {
				c.emit(KindIRQ, "handle_bad_irq", fmt.Sprintf("irq %d: no handler, spurious interrupt", d.irq))
			}
			return
		}
		d.pending = false
		acts := append([]*irqAction(nil), d.actions...)
		d.inProgress, d.runner = true, e.Holder()
		c.mu.Unlock()
		ret := c.handleEvent(d, acts)
		c.noteInterrupt(d, ret)
		c.mu.Lock()
		d.inProgress, d.runner = false, env.Holder{}
		again := d.pending && d.deliverableLocked()
		if !again {
			d.handler = false
		}
		c.mu.Unlock()
		c.q.WakeAll()
		if !again {
			return
		}
	}
}

// handleEvent is handle_irq_event: every handler on the line, in hard
// interrupt context; the results ORed.
func (c *irqChip) handleEvent(d *irqDesc, acts []*irqAction) (ret IRQReturn) {
	e := c.m.e
	e.EnterAtomic(fmt.Sprintf("%s%d", ctxHardirq, d.irq))
	defer e.ExitAtomic()
	if e.Scheduler() == nil {
		defer oops(e, fmt.Sprintf("irq %d handler", d.irq))
	}
	for _, a := range acts {
		c.emit(KindIRQ, "handle_irq_event", fmt.Sprintf("irq %d %s", d.irq, a.name))
		r := a.handler(d.irq, a.devID)
		switch r {
		case IRQNone, IRQHandled:
		case IRQWakeThread:
			if a.threadFn == nil {
				c.emit(trace.Warn, "handle_irq_event", fmt.Sprintf("irq %d handler %s returned IRQ_WAKE_THREAD but no thread function available", d.irq, a.name))
				r = IRQHandled
				break
			}
			c.wakeThread(a)
		default:
			c.emit(trace.Warn, "note_interrupt", fmt.Sprintf("irq event %d: bogus return value %x (%s)", d.irq, int(r), a.name))
			r = IRQHandled
		}
		ret |= r
	}
	return ret
}

// wakeThread is __irq_wake_thread: the action's thread runs its function
// (once more if it runs now). A oneshot line stays masked until it did.
func (c *irqChip) wakeThread(a *irqAction) {
	d := a.desc
	c.mu.Lock()
	if a.runThread {
		c.mu.Unlock()
		return
	}
	a.runThread = true
	d.threadsActive++
	if a.flags&IRQFOneshot != 0 && !a.oneshotHeld {
		a.oneshotHeld = true
		d.oneshot++
	}
	start := !a.threadAlive
	a.threadAlive = true
	c.mu.Unlock()
	if !start {
		return
	}
	abandon := func() {
		c.mu.Lock()
		a.threadAlive = false
		c.mu.Unlock()
	}
	if !c.m.e.Spawn(threadName(d.irq, a.name), func() { c.thread(a) }, abandon) {
		go c.thread(a)
	}
}

// thread is irq_thread: it runs the thread function for every wake-up,
// then ends (the kernel's thread sleeps instead; it lives from request to
// free). A oneshot line is unmasked after the function, and an interrupt
// raised meanwhile is delivered (irq_finalize_oneshot).
func (c *irqChip) thread(a *irqAction) {
	e := c.m.e
	d := a.desc
	for {
		c.mu.Lock()
		if !a.runThread {
			a.threadAlive = false
			c.mu.Unlock()
			c.q.WakeAll()
			return
		}
		a.runThread = false
		a.threadRunning, a.threadRunner = true, e.Holder()
		c.mu.Unlock()
		c.runThreadFn(a)
		c.mu.Lock()
		a.threadRunning, a.threadRunner = false, env.Holder{}
		d.threadsActive--
		replay := false
		if a.oneshotHeld {
			a.oneshotHeld = false
			d.oneshot--
			replay = c.replayLocked(d)
		}
		c.mu.Unlock()
		c.q.WakeAll()
		if replay {
			c.emit(KindIRQ, "irq_finalize_oneshot", fmt.Sprintf("irq %d unmasked: delivering the interrupt raised meanwhile", d.irq))
			c.deliver(d)
		}
	}
}

func (c *irqChip) runThreadFn(a *irqAction) {
	e := c.m.e
	if e.Scheduler() == nil {
		defer oops(e, fmt.Sprintf("irq %d thread %s", a.desc.irq, a.name))
	}
	c.emit(KindIRQ, "irq_thread_fn", fmt.Sprintf("irq %d %s", a.desc.irq, a.name))
	a.threadFn(a.desc.irq, a.devID)
}

// Spurious-interrupt detection (note_interrupt): of 100,000 deliveries,
// more than 99,900 unhandled, each within HZ/10 of the previous one, and
// the line is declared stuck and disabled.
const (
	noteWindow    = 100000
	noteStuck     = 99900
	noteResetTime = 100 * time.Millisecond
)

// noteInterrupt is note_interrupt: it counts deliveries no handler
// claimed and disables a line that looks stuck.
func (c *irqChip) noteInterrupt(d *irqDesc, ret IRQReturn) {
	now := c.m.e.Now()
	c.mu.Lock()
	if ret == IRQNone {
		d.stats.Unhandled++
		if now-d.lastUnhandled > noteResetTime {
			d.irqsUnhandled = 1
		} else {
			d.irqsUnhandled++
		}
		d.lastUnhandled = now
	}
	d.irqCount++
	if d.irqCount < noteWindow {
		c.mu.Unlock()
		return
	}
	d.irqCount = 0
	stuck := d.irqsUnhandled > noteStuck
	d.irqsUnhandled = 0
	if stuck {
		d.spuriousOff = true
		d.depth++
		d.stats.Depth = d.depth
	}
	names := make([]string, len(d.actions))
	for i, a := range d.actions {
		names[i] = a.name
	}
	c.mu.Unlock()
	if stuck {
		c.emit(trace.Warn, "note_interrupt", fmt.Sprintf("irq %d: nobody cared (try booting with the \"irqpoll\" option); handlers: %v", d.irq, names))
		c.emit(KindIRQ, "note_interrupt", fmt.Sprintf("Disabling IRQ #%d", d.irq))
	}
}

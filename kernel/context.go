package kernel

import (
	"strings"

	"github.com/drvsim/drvsim/env"
)

// The labels the library gives env.Env.EnterAtomic. Besides naming what
// made a task atomic in "sleeping function called from invalid context"
// reports, they are the task's interrupt state (the kernel's
// preempt_count and irqs_disabled), which lockdep's irq-safety check
// reads back.
const (
	ctxIRQsOff   = "irqs off"     // local_irq_save, spin_lock_irqsave
	ctxBHOff     = "softirqs off" // local_bh_disable, spin_lock_bh
	ctxHardirq   = "hardirq "     // + irq number: a hard interrupt handler
	ctxSoftirq   = "softirq "     // + what: a timer callback
	ctxSpinlock  = "spinlock "    // + lock name
	ctxSoftTimer = ctxSoftirq + "timer "
)

// irqContext is the calling task's interrupt state.
type irqContext struct {
	hardirq, softirq bool // in a hard interrupt handler, in a softirq
	irqsOff, bhOff   bool // interrupts, softirqs disabled (or implied off)
	what             string
}

// contextOf reads the calling task's interrupt state; all false with
// lockdep off, which does not track it.
func contextOf(e *env.Env) irqContext {
	var c irqContext
	for _, a := range e.Atomic() {
		switch {
		case strings.HasPrefix(a, ctxHardirq):
			c.hardirq, c.what = true, a
		case strings.HasPrefix(a, ctxSoftirq):
			c.softirq = true
			if !c.hardirq {
				c.what = a
			}
		case a == ctxIRQsOff:
			c.irqsOff = true
		case a == ctxBHOff:
			c.bhOff = true
		}
	}
	c.irqsOff = c.irqsOff || c.hardirq
	c.bhOff = c.bhOff || c.irqsOff || c.softirq
	return c
}

// inInterrupt is in_interrupt(): a hard or soft interrupt handler runs.
func (c irqContext) inInterrupt() bool { return c.hardirq || c.softirq }

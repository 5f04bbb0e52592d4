package kernel

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Each machine has an interrupt controller (the kernel's irq_desc table,
// kernel/irq/manage.c): drivers attach handlers to interrupt lines with
// RequestIRQ and RequestThreadedIRQ (or the devm_ forms), simulated
// hardware raises a line with RaiseIRQ, and FreeIRQ, SynchronizeIRQ,
// DisableIRQ and EnableIRQ behave as the kernel's.

// NrIRQs bounds interrupt numbers (nr_irqs): valid lines are 1 to
// NrIRQs-1; 0 is "no interrupt", as on every modern architecture.
const NrIRQs = 1024

// maxSharedActions bounds the handlers of one shared line (the kernel's
// thread_mask has one bit per action).
const maxSharedActions = 64

// IRQReturn is irqreturn_t, what a handler returns.
type IRQReturn int

// Handler results.
const (
	IRQNone       IRQReturn = 0 // IRQ_NONE: not my device's interrupt
	IRQHandled    IRQReturn = 1 // IRQ_HANDLED
	IRQWakeThread IRQReturn = 2 // IRQ_WAKE_THREAD: run the thread function
)

// String names the result as the kernel does.
func (r IRQReturn) String() string {
	switch r {
	case IRQNone:
		return "IRQ_NONE"
	case IRQHandled:
		return "IRQ_HANDLED"
	case IRQWakeThread:
		return "IRQ_WAKE_THREAD"
	}
	return fmt.Sprintf("irqreturn(%d)", int(r))
}

// IRQHandler is irq_handler_t: a hard handler or a thread function, given
// the interrupt number and the dev_id it was requested with.
type IRQHandler func(irq int, devID any) IRQReturn

// IRQFlags are request_irq's flags (IRQF_*), the kernel's values.
type IRQFlags uint

// Interrupt request flags.
const (
	IRQFTriggerRising  IRQFlags = 0x00000001 // IRQF_TRIGGER_RISING
	IRQFTriggerFalling IRQFlags = 0x00000002 // IRQF_TRIGGER_FALLING
	IRQFTriggerHigh    IRQFlags = 0x00000004 // IRQF_TRIGGER_HIGH
	IRQFTriggerLow     IRQFlags = 0x00000008 // IRQF_TRIGGER_LOW
	IRQFShared         IRQFlags = 0x00000080 // IRQF_SHARED: several handlers on one line
	IRQFOneshot        IRQFlags = 0x00002000 // IRQF_ONESHOT: line masked until the thread ran
	IRQFNoAutoEn       IRQFlags = 0x00080000 // IRQF_NO_AUTOEN: requested disabled, enable_irq starts it

	irqfTriggerMask = IRQFTriggerRising | IRQFTriggerFalling | IRQFTriggerHigh | IRQFTriggerLow
	irqfKnown       = irqfTriggerMask | IRQFShared | IRQFOneshot | IRQFNoAutoEn
)

// IRQStats are an interrupt line's counters (/proc/interrupts and the
// spurious-interrupt detector's).
type IRQStats struct {
	// Count is how often the line was raised (kstat_irqs).
	Count uint64
	// Unhandled counts deliveries every handler answered IRQ_NONE to.
	Unhandled uint64
	// Spurious counts raises with no handler at all (handle_bad_irq).
	Spurious uint64
	// Depth is the disable depth: 0 when enabled.
	Depth int
	// Handlers is the number of handlers requested on the line.
	Handlers int
}

// irqChip is one machine's interrupt controller.
type irqChip struct {
	m *machine
	q *WaitQueue // woken at every change handlers or waiters wait for

	mu     sync.Mutex
	descs  map[int]*irqDesc
	closed bool
}

// irqDesc is struct irq_desc: one line.
type irqDesc struct {
	irq     int
	actions []*irqAction
	depth   int  // disable depth (desc->depth)
	pending bool // IRQS_PENDING: raised while it could not run; replayed
	// handler is true while a hard handler runs or, under a simulator,
	// its task is started; inProgress (IRQD_IRQ_INPROGRESS) while it
	// runs, by runner.
	handler       bool
	inProgress    bool
	runner        env.Holder
	threadsActive int // woken thread functions not finished
	oneshot       int // IRQF_ONESHOT actions whose thread keeps the line masked
	spuriousOff   bool

	stats IRQStats
	// note_interrupt's window.
	irqCount      int
	irqsUnhandled int
	lastUnhandled time.Duration
}

// irqAction is struct irqaction: one handler on a line.
type irqAction struct {
	desc     *irqDesc
	name     string
	handler  IRQHandler
	threadFn IRQHandler
	flags    IRQFlags
	devID    any
	freed    bool

	runThread     bool // IRQTF_RUNTHREAD
	threadAlive   bool // its thread (task or goroutine) exists
	threadRunning bool
	threadRunner  env.Holder
	oneshotHeld   bool
}

func (m *machine) irqChip() *irqChip {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.irq == nil {
		m.irq = &irqChip{m: m, q: NewWaitQueue(m.e, "irq"), descs: map[int]*irqDesc{}}
	}
	return m.irq
}

func chipOf(h env.Host) *irqChip { return machineOf(env.Of(h)).irqChip() }

// descLocked returns the line's descriptor, creating it.
func (c *irqChip) descLocked(irq int) *irqDesc {
	d := c.descs[irq]
	if d == nil {
		d = &irqDesc{irq: irq}
		c.descs[irq] = d
	}
	return d
}

func (c *irqChip) emit(kind trace.Kind, fn, msg string) { c.m.emit(kind, fn, msg) }

func validIRQ(irq int) bool { return irq > 0 && irq < NrIRQs }

// defaultPrimary is irq_default_primary_handler: the hard handler of a
// threaded interrupt requested without one.
func defaultPrimary(int, any) IRQReturn { return IRQWakeThread }

// RequestIRQ is request_irq: handler runs, in hard interrupt context,
// whenever line irq is raised. flags may include IRQFShared (then devID
// must not be nil, and every handler on the line must be shared with the
// same trigger); devID is what handler receives and what FreeIRQ looks
// the handler up by (it must be comparable: a pointer). Errors:
// device.ErrInvalid for a number outside [1, NrIRQs), a nil handler, a shared
// request without devID or with IRQFNoAutoEn, unknown flags; device.ErrBusy for a line taken by a
// handler it cannot share with; device.ErrNoMemory through fault injection at
// FaultRequestIRQ. It may sleep.
func RequestIRQ(h env.Host, irq int, handler IRQHandler, flags IRQFlags, name string, devID any) error {
	if handler == nil {
		return fmt.Errorf("request_irq %d %s: no handler: %w", irq, name, device.ErrInvalid)
	}
	return requestIRQ(env.Of(h), "request_irq", irq, handler, nil, flags, name, devID)
}

// RequestThreadedIRQ is request_threaded_irq: handler runs in hard
// interrupt context and may return IRQWakeThread, which runs threadFn in
// the line's interrupt thread ("irq/<irq>-<name>"), in process context,
// where it may sleep. With a nil handler the line must be IRQFOneshot (it
// stays masked until threadFn ran; the kernel refuses the request
// otherwise). Errors as RequestIRQ's, and device.ErrInvalid when both functions
// are nil.
func RequestThreadedIRQ(h env.Host, irq int, handler, threadFn IRQHandler, flags IRQFlags, name string, devID any) error {
	return requestIRQ(env.Of(h), "request_threaded_irq", irq, handler, threadFn, flags, name, devID)
}

func requestIRQ(e *env.Env, fn string, irq int, handler, threadFn IRQHandler, flags IRQFlags, name string, devID any) error {
	e.MightSleep(fn)
	e.Yield(sched.Point{Kind: fn, Obj: fmt.Sprintf("%d %s", irq, name)})
	switch {
	case !validIRQ(irq):
		return fmt.Errorf("%s %d %s: no such interrupt (valid: 1 to %d): %w", fn, irq, name, NrIRQs-1, device.ErrInvalid)
	case flags&^irqfKnown != 0:
		return fmt.Errorf("%s %d %s: unknown flags %#x: %w", fn, irq, name, uint(flags&^irqfKnown), device.ErrInvalid)
	case flags&IRQFShared != 0 && devID == nil:
		return fmt.Errorf("%s %d %s: a shared interrupt needs a dev_id: %w", fn, irq, name, device.ErrInvalid)
	case devID != nil && !reflect.TypeOf(devID).Comparable():
		return fmt.Errorf("%s %d %s: dev_id of type %T is not comparable: %w", fn, irq, name, devID, device.ErrInvalid)
	case flags&IRQFNoAutoEn != 0 && flags&IRQFShared != 0:
		return fmt.Errorf("%s %d %s: IRQF_NO_AUTOEN on a shared interrupt: %w", fn, irq, name, device.ErrInvalid)
	case handler == nil && threadFn == nil:
		return fmt.Errorf("%s %d %s: neither a handler nor a thread function: %w", fn, irq, name, device.ErrInvalid)
	}
	c := machineOf(e).irqChip()
	if handler == nil {
		if flags&IRQFOneshot == 0 {
			c.emit(trace.Warn, fn, fmt.Sprintf("genirq: Threaded irq requested with handler=NULL and !ONESHOT for %s (irq %d)", name, irq))
			return fmt.Errorf("%s %d %s: threaded without a handler and without IRQF_ONESHOT: %w", fn, irq, name, device.ErrInvalid)
		}
		handler = defaultPrimary
	}
	if err := e.Fault(FaultRequestIRQ); err != nil {
		return fmt.Errorf("%s %d %s: %w (%w)", fn, irq, name, device.ErrNoMemory, err)
	}
	c.mu.Lock()
	d := c.descLocked(irq)
	if len(d.actions) > 0 {
		old := d.actions[0]
		if old.flags&flags&IRQFShared == 0 || old.flags&irqfTriggerMask != flags&irqfTriggerMask ||
			(old.flags^flags)&IRQFOneshot != 0 || len(d.actions) >= maxSharedActions {
			c.mu.Unlock()
			c.emit(trace.Warn, fn, fmt.Sprintf("genirq: Flags mismatch irq %d. %08x (%s) vs. %08x (%s)",
				irq, uint(flags), name, uint(old.flags), old.name))
			return fmt.Errorf("%s %d %s: line taken by %s: %w", fn, irq, name, old.name, device.ErrBusy)
		}
	}
	a := &irqAction{desc: d, name: name, handler: handler, threadFn: threadFn, flags: flags, devID: devID}
	d.actions = append(d.actions, a)
	if len(d.actions) == 1 {
		d.depth, d.pending, d.spuriousOff = 0, false, false
		d.irqCount, d.irqsUnhandled = 0, 0
		if flags&IRQFNoAutoEn != 0 {
			d.depth = 1
		}
	}
	d.stats.Handlers = len(d.actions)
	c.mu.Unlock()
	msg := fmt.Sprintf("irq %d %s", irq, name)
	if threadFn != nil {
		msg += ", thread " + threadName(irq, name)
	}
	c.emit(KindIRQ, fn, msg)
	return nil
}

// threadName is the interrupt thread's name, "irq/<irq>-<name>", cut to
// the kernel's 15-character task names.
func threadName(irq int, name string) string {
	n := fmt.Sprintf("irq/%d-%s", irq, name)
	if len(n) > 15 {
		n = n[:15]
	}
	return n
}

// FreeIRQ is free_irq: it removes the handler requested on line irq with
// devID, waits until a hard handler running on the line has returned and
// the handler's thread function has finished (a wake-up already pending
// runs first), and returns the name the handler was requested with.
// Freeing a handler that is not there draws the kernel's "Trying to free
// already-free IRQ" warning and returns "". It may sleep; called from
// interrupt context it draws the kernel's warning and does nothing, and
// called from the handler's own thread it would wait for itself: that is
// reported and it does not wait.
func FreeIRQ(h env.Host, irq int, devID any) string {
	e := env.Of(h)
	c := machineOf(e).irqChip()
	if ctx := contextOf(e); ctx.inInterrupt() {
		c.emit(trace.Warn, "free_irq", fmt.Sprintf("Trying to free IRQ %d from IRQ context! (%s)", irq, ctx.what))
		e.MightSleep("free_irq")
		return ""
	}
	e.MightSleep("free_irq")
	e.Yield(sched.Point{Kind: "free_irq", Obj: fmt.Sprint(irq)})
	c.mu.Lock()
	d := c.descs[irq]
	var a *irqAction
	if d != nil && validIRQ(irq) {
		for i, x := range d.actions {
			if x.devID == devID {
				a = x
				d.actions = append(d.actions[:i], d.actions[i+1:]...)
				break
			}
		}
	}
	if a == nil {
		c.mu.Unlock()
		c.emit(trace.Warn, "free_irq", fmt.Sprintf("Trying to free already-free IRQ %d", irq))
		return ""
	}
	a.freed = true
	d.stats.Handlers = len(d.actions)
	if len(d.actions) == 0 {
		d.depth = 1 // irq_shutdown: the line is off until the next request
	}
	self := a.threadRunning && e.IsSelf(a.threadRunner)
	c.mu.Unlock()
	c.emit(KindIRQ, "free_irq", fmt.Sprintf("irq %d %s", irq, a.name))
	if self {
		e.Report("free_irq", &env.Report{Kind: env.BugDeadlock, Title: "INFO: task " + env.OrSetup(e.Current()) + " blocked: free_irq from the interrupt's own thread",
			Details: fmt.Sprintf("free_irq(%d) in %s's thread function waits for that thread to exit (kthread_stop): it never does.\n", irq, a.name)})
		return a.name
	}
	c.q.block(sched.Wait{What: fmt.Sprintf("free_irq %d %s", irq, a.name), Holder: c.holders(d, a)}, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return !d.inProgress && !a.threadAlive
	})
	return a.name
}

// holders names the tasks a wait on the line (and on action a's thread,
// when a is not nil) waits for, for deadlock reports.
func (c *irqChip) holders(d *irqDesc, a *irqAction) func() string {
	return func() string {
		c.mu.Lock()
		defer c.mu.Unlock()
		var names []string
		if d.inProgress {
			names = append(names, d.runner.String())
		}
		for _, x := range append(append([]*irqAction(nil), d.actions...), a) {
			if x != nil && x.threadRunning {
				names = append(names, x.threadRunner.String())
			}
		}
		return strings.Join(names, ", ")
	}
}

// SynchronizeIRQ is synchronize_irq: it waits until no hard handler of
// line irq runs and its woken thread functions have finished. It may
// sleep. From the line's own thread function it would wait for itself:
// that is reported and it does not wait.
func SynchronizeIRQ(h env.Host, irq int) {
	e := env.Of(h)
	e.MightSleep("synchronize_irq")
	e.Yield(sched.Point{Kind: "synchronize_irq", Obj: fmt.Sprint(irq)})
	machineOf(e).irqChip().synchronize("synchronize_irq", irq)
}

func (c *irqChip) synchronize(fn string, irq int) {
	e := c.m.e
	c.mu.Lock()
	d := c.descs[irq]
	if d == nil {
		c.mu.Unlock()
		return
	}
	if d.inProgress && e.IsSelf(d.runner) {
		c.mu.Unlock()
		return // its might_sleep has reported it: it would wait for itself
	}
	for _, a := range d.actions {
		if a.threadRunning && e.IsSelf(a.threadRunner) {
			c.mu.Unlock()
			e.Report(fn, &env.Report{Kind: env.BugDeadlock, Title: "INFO: task " + env.OrSetup(e.Current()) + " blocked: " + fn + " from the interrupt's own thread",
				Details: fmt.Sprintf("%s(%d) in %s's thread function waits for the line's threads to finish, itself included: it never does.\n", fn, irq, a.name)})
			return
		}
	}
	c.mu.Unlock()
	c.q.block(sched.Wait{What: fmt.Sprintf("%s %d", fn, irq), Holder: c.holders(d, nil)}, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return !d.inProgress && d.threadsActive == 0
	})
}

// DisableIRQ is disable_irq: DisableIRQNosync, then SynchronizeIRQ. It
// may sleep (calling it from the line's own hard handler is the kernel's
// "sleeping function called from invalid context", and it does not wait
// for itself).
func DisableIRQ(h env.Host, irq int) {
	e := env.Of(h)
	e.MightSleep("disable_irq")
	c := machineOf(e).irqChip()
	if c.disable("disable_irq", irq) {
		e.Yield(sched.Point{Kind: "disable_irq", Obj: fmt.Sprint(irq)})
		c.synchronize("disable_irq", irq)
	}
}

// DisableIRQNosync is disable_irq_nosync: line irq is masked, one level
// deeper (calls nest; each needs an EnableIRQ). A raise meanwhile is kept
// pending and delivered by the EnableIRQ that unmasks the line. It does
// not wait for a running handler.
func DisableIRQNosync(h env.Host, irq int) {
	machineOf(env.Of(h)).irqChip().disable("disable_irq_nosync", irq)
}

func (c *irqChip) disable(fn string, irq int) bool {
	if !validIRQ(irq) {
		c.emit(trace.Warn, fn, fmt.Sprintf("no such interrupt %d", irq))
		return false
	}
	c.mu.Lock()
	d := c.descLocked(irq)
	d.depth++
	d.stats.Depth = d.depth
	depth := d.depth
	c.mu.Unlock()
	c.emit(KindIRQ, fn, fmt.Sprintf("irq %d depth %d", irq, depth))
	return true
}

// EnableIRQ is enable_irq: one disable level undone; at depth zero the
// line is unmasked and a raise kept pending meanwhile is delivered (on the
// caller in the plain environment, as a new interrupt task under the
// simulator). Enabling a line that is not disabled draws the kernel's
// "Unbalanced enable for IRQ" warning.
func EnableIRQ(h env.Host, irq int) {
	e := env.Of(h)
	c := machineOf(e).irqChip()
	if !validIRQ(irq) {
		c.emit(trace.Warn, "enable_irq", fmt.Sprintf("no such interrupt %d", irq))
		return
	}
	e.Yield(sched.Point{Kind: "enable_irq", Obj: fmt.Sprint(irq)})
	c.mu.Lock()
	d := c.descLocked(irq)
	if d.depth == 0 {
		c.mu.Unlock()
		c.emit(trace.Warn, "enable_irq", fmt.Sprintf("Unbalanced enable for IRQ %d", irq))
		return
	}
	d.depth--
	d.stats.Depth = d.depth
	if d.depth == 0 {
		d.spuriousOff = false
	}
	replay := c.replayLocked(d)
	depth := d.depth
	c.mu.Unlock()
	c.emit(KindIRQ, "enable_irq", fmt.Sprintf("irq %d depth %d", irq, depth))
	if replay {
		c.emit(KindIRQ, "check_irq_resend", fmt.Sprintf("irq %d: delivering the interrupt raised while disabled", irq))
		c.deliver(d)
	}
}

// IRQStat returns line irq's counters (zero for a line never used).
func IRQStat(h env.Host, irq int) IRQStats {
	c := chipOf(h)
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := c.descs[irq]; d != nil {
		return d.stats
	}
	return IRQStats{}
}

// close waits for the machine's interrupt threads at its Close; raises
// afterwards are dropped with a warning.
func (c *irqChip) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.q.block(sched.Wait{What: "irq shutdown"}, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, d := range c.descs {
			if d.handler || d.threadsActive > 0 {
				return false
			}
			for _, a := range d.actions {
				if a.threadAlive {
					return false
				}
			}
		}
		return true
	})
}

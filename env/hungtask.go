package env

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"weak"
)

// The hung-task detector of the plain environment (real goroutines): the
// kernel's khungtaskd, which reports a task that stayed in uninterruptible
// sleep longer than hung_task_timeout_secs. Under a simulator it is off:
// the simulator sees every blocked task and reports a deadlock
// deterministically, on its virtual clock.
//
// Simulated kernel code brackets what may block for long with Env.Watch:
// the driver core every driver callback (probe, remove, shutdown,
// notifiers, devres actions) and its own waits (the device lock, a driver
// unregistration waiting for probes in flight, wait_for_device_probe),
// revocable every grace-period wait. A watch still open after the timeout
// is reported once, as a Report of kind BugHung naming the task, what it
// is in (the callback, the device, the driver) and the wait-for chain:
// who holds the device lock it waits for, which readers hold the grace
// period, and what those tasks are in. Wall time only decides whether to
// report; nothing of it enters the trace.
//
// In a test binary the detector is on by default with a short timeout and
// panics with the report (the kernel's hung_task_panic), so that a hang
// fails the test with the wait-for chain instead of hanging it until go
// test's own timeout.

// DefaultHungTaskTimeout is the detector's timeout outside tests: the
// kernel's CONFIG_DEFAULT_HUNG_TASK_TIMEOUT.
const DefaultHungTaskTimeout = 120 * time.Second

// TestHungTaskTimeout is the detector's timeout in a test binary
// (testing.Testing): far longer than any honest callback takes under the
// race detector on a loaded machine, far shorter than go test's timeout.
const TestHungTaskTimeout = 10 * time.Second

// WithHungTaskTimeout sets the hung-task detector's timeout: a watched
// callback or wait still running after d is reported. 0 turns the
// detector off. The default is DefaultHungTaskTimeout, or
// TestHungTaskTimeout in a test binary. It has no effect under a
// simulator.
func WithHungTaskTimeout(d time.Duration) Option {
	return func(e *Env) { e.hung.timeout, e.hung.timeoutSet = d, true }
}

// WithHungTaskPanic makes the detector panic with its report after filing
// it (the kernel's hung_task_panic), or not. The default is on in a test
// binary, off otherwise.
func WithHungTaskPanic(on bool) Option {
	return func(e *Env) { e.hung.panicOn, e.hung.panicSet = on, true }
}

// hungTask is an Env's detector: the open watches in order of opening, and
// one timer armed for the oldest unreported one.
type hungTask struct {
	timeout    time.Duration
	timeoutSet bool
	panicOn    bool
	panicSet   bool

	mu    sync.Mutex
	head  Watch // sentinel of the open watches, oldest first
	timer *time.Timer
	armed bool
}

func (h *hungTask) init() {
	if !h.timeoutSet {
		h.timeout = DefaultHungTaskTimeout
		if testing.Testing() {
			h.timeout = TestHungTaskTimeout
		}
	}
	if !h.panicSet {
		h.panicOn = testing.Testing()
	}
	h.head.prev, h.head.next = &h.head, &h.head
}

// HungTaskTimeout returns the hung-task detector's timeout (0: off, as it
// is under a simulator).
func (e *Env) HungTaskTimeout() time.Duration {
	if e == nil || e.sch != nil {
		return 0
	}
	return e.hung.timeout
}

// Watched describes what a task does that may block for long: a callback
// into driver code, or a wait.
type Watched struct {
	// What is the callback or the wait, e.g. "probe", "remove",
	// "device_lock", "synchronize_srcu".
	What string
	// Func is the kernel function it runs in, e.g. "call_driver_probe".
	Func string
	// Obj names the object waited for when it is no device, e.g. an SRCU
	// domain or a provider.
	Obj string
	// Dev is the device's sysfs path, Driver the driver's name ("" for
	// none).
	Dev, Driver string
	// Holders, for a wait, returns who holds what is waited for: the
	// holding tasks, when known, and a description ("2 read sections
	// open"). nil for a callback: driver code holds the task.
	Holders func() (who []Owner, note string)
}

// String describes w on one line: "probe of driver foo on /sys/...".
func (w Watched) String() string {
	var b strings.Builder
	b.WriteString(w.What)
	if w.Obj != "" {
		b.WriteString(" " + w.Obj)
	}
	if w.Driver != "" {
		b.WriteString(" of driver " + w.Driver)
	}
	if w.Dev != "" {
		b.WriteString(" on " + w.Dev)
	}
	if w.Func != "" && w.Func != w.What {
		b.WriteString(" (" + w.Func + ")")
	}
	return b.String()
}

// Watch is one open watch (Env.Watch). Close it with Done, once; it must
// not be used after.
type Watch struct {
	Watched
	owner      Owner
	start      time.Duration // since epoch
	reported   bool
	prev, next *Watch
	h          *hungTask
}

// epoch is the origin of watch start times: time.Since(epoch) reads only
// the monotonic clock.
var epoch = time.Now()

// watches recycles Watch values: a watch is opened around every driver
// callback, and must cost no allocation.
var watches = sync.Pool{New: func() any { return new(Watch) }}

// Watch opens a watch on what the calling task is about to do (see
// Watched); Done closes it. While it is open longer than the hung-task
// timeout, the detector reports the task once. It returns nil, on which
// Done does nothing, under a simulator or with the detector off.
func (e *Env) Watch(w Watched) *Watch {
	if e == nil || e.sch != nil || e.hung.timeout <= 0 {
		return nil
	}
	h := &e.hung
	x := watches.Get().(*Watch)
	*x = Watch{Watched: w, owner: e.Self(), start: time.Since(epoch), h: h}
	h.mu.Lock()
	x.prev, x.next = h.head.prev, &h.head
	h.head.prev.next = x
	h.head.prev = x
	if !h.armed {
		h.armed = true
		if h.timer == nil {
			// The timer holds the Env weakly: a machine dropped with the
			// timer armed (it stays armed until it fires) is not kept
			// alive for the timeout.
			wp := weak.Make(e)
			h.timer = time.AfterFunc(h.timeout, func() {
				if e := wp.Value(); e != nil {
					e.checkHung()
				}
			})
		} else {
			h.timer.Reset(h.timeout)
		}
	}
	h.mu.Unlock()
	return x
}

// Done closes the watch.
func (w *Watch) Done() {
	if w == nil {
		return
	}
	h := w.h
	h.mu.Lock()
	w.prev.next = w.next
	w.next.prev = w.prev
	h.mu.Unlock()
	*w = Watch{}
	watches.Put(w)
}

// checkHung is the detector's timer: every task with a watch open longer
// than the timeout, not reported yet, is reported; the timer is re-armed
// for the oldest watch not yet due.
func (e *Env) checkHung() {
	h := &e.hung
	now := time.Since(epoch)
	h.mu.Lock()
	open := map[Owner][]Watched{}
	var due []Owner
	isDue := map[Owner]bool{}
	var next time.Duration
	for w := h.head.next; w != &h.head; w = w.next {
		open[w.owner] = append(open[w.owner], w.Watched)
		if w.reported {
			continue
		}
		if age := now - w.start; age >= h.timeout {
			if !isDue[w.owner] {
				isDue[w.owner] = true
				due = append(due, w.owner)
			}
		} else if next == 0 {
			next = h.timeout - age
		}
	}
	for w := h.head.next; w != &h.head; w = w.next {
		if isDue[w.owner] {
			w.reported = true
		}
	}
	h.armed = next > 0
	if h.armed {
		h.timer.Reset(next)
	}
	timeout, panicOn := h.timeout, h.panicOn
	h.mu.Unlock()
	for _, o := range due {
		r := hungReport(o, open, timeout)
		e.Report("hung_task", r)
		if panicOn {
			panic(r.String())
		}
	}
}

// hungReport describes task o, blocked with the watches open[o] (outermost
// first), and the wait-for chain from it.
func hungReport(o Owner, open map[Owner][]Watched, timeout time.Duration) *Report {
	ws := open[o]
	inner := ws[len(ws)-1]
	task := Holder{Owner: o}.String()
	var b strings.Builder
	for _, w := range ws {
		fmt.Fprintf(&b, "      in %s\n", w)
	}
	b.WriteString("wait-for chain:\n")
	seen := map[Owner]bool{}
	for cur := o; ; {
		seen[cur] = true
		cws := open[cur]
		name := Holder{Owner: cur}.String()
		if len(cws) == 0 {
			fmt.Fprintf(&b, "  %s (in no watched callback or wait)\n", name)
			break
		}
		w := cws[len(cws)-1]
		fmt.Fprintf(&b, "  %s -> [%s]", name, w)
		if w.Holders == nil {
			b.WriteString(" (in driver code)\n")
			break
		}
		who, note := w.Holders()
		if note != "" {
			b.WriteString(" -> " + note)
		}
		if len(who) == 0 {
			b.WriteByte('\n')
			break
		}
		next := who[0]
		fmt.Fprintf(&b, " -> %s", Holder{Owner: next}.String())
		if next == o {
			b.WriteString(" (cycle: the task waits for itself)\n")
			break
		}
		if seen[next] {
			b.WriteString(" (cycle)\n")
			break
		}
		b.WriteByte('\n')
		cur = next
	}
	return &Report{
		Kind:    BugHung,
		Title:   fmt.Sprintf("INFO: task %s blocked for more than %s in %s", task, seconds(timeout), inner),
		Task:    task,
		Details: b.String(),
	}
}

// seconds renders d as the kernel's "120 seconds", or Go's form for a
// timeout that is no whole number of seconds.
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%d seconds", d/time.Second)
	}
	return d.String()
}

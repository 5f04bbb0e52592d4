package kernel

import (
	"fmt"
	"sync"
	"time"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Timer is the kernel's struct timer_list (timer_setup, mod_timer,
// add_timer, timer_delete, timer_delete_sync, timer_pending,
// timer_shutdown_sync): a callback that runs once the machine's virtual
// clock (env.Env.Now, the kernel's jiffies) reaches the timer's expiry.
//
// The callback runs in softirq context, which is atomic: sleeping in it
// draws "BUG: sleeping function called from invalid context", and a
// spinlock it shares with process context must be taken there with
// LockBH or LockIRQSave (lockdep's inconsistent lock state otherwise). It
// may re-arm its own timer.
//
// Under the simulator an armed timer is a task named "timer/<name>" that
// sleeps until the expiry (re-checking every Mod and Delete) and then
// runs the callback, so the explorer interleaves the callback with the
// other tasks, and time advances to the expiry once every task waits. In
// the plain environment the callback runs on the goroutine that moves the
// clock past the expiry (env.Env.Advance, Sleep); an expiry already past
// when armed fires at the next move. The zero value is not usable; create
// one with NewTimer.
type Timer struct {
	e    *env.Env
	name string
	fn   func(*Timer)
	q    *WaitQueue

	mu       sync.Mutex
	pending  bool
	expires  time.Duration
	gen      uint64 // arming generation: Mod and Delete change it
	firing   uint64 // the generation whose callback runs
	running  bool
	runner   env.Holder
	shutdown bool
	task     bool        // simulator: the timer's task is alive
	stop     func() bool // plain environment: disarms the clock callback
}

// NewTimer is timer_setup: a timer named name whose callback is fn, in
// h's machine, not armed. fn gets the timer, as a timer callback does.
func NewTimer(h env.Host, name string, fn func(*Timer)) *Timer {
	e := env.Of(h)
	return &Timer{e: e, name: name, fn: fn, q: NewWaitQueue(e, "timer "+name)}
}

// Name returns the timer's name.
func (t *Timer) Name() string { return t.name }

// Pending is timer_pending: the timer is armed and has not fired.
func (t *Timer) Pending() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pending
}

// Expires returns the expiry the timer was last armed with.
func (t *Timer) Expires() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.expires
}

func (t *Timer) emit(kind trace.Kind, fn, msg string) {
	t.e.Log().Emit(trace.Event{Kind: kind, Func: fn, Msg: msg})
}

// Mod is mod_timer: it arms the timer to fire at the virtual time
// expires (env.Env.Now() + a delay), replacing an earlier expiry, and
// reports whether it was pending. After Shutdown it does nothing and
// returns false.
func (t *Timer) Mod(expires time.Duration) bool {
	t.e.Yield(sched.Point{Kind: "mod_timer", Obj: t.name})
	return t.mod("mod_timer", expires)
}

// Add is add_timer: Mod for a timer that is not pending. Adding a pending
// timer is the kernel's BUG_ON: it is reported and the timer is left as
// it was.
func (t *Timer) Add(expires time.Duration) {
	t.e.Yield(sched.Point{Kind: "add_timer", Obj: t.name})
	if t.Pending() {
		t.e.Report("add_timer", &env.Report{Kind: env.BugPanic, Title: "kernel BUG at kernel/time/timer.c: add_timer on a pending timer",
			Details: fmt.Sprintf("timer %s is already pending\n", t.name)})
		return
	}
	t.mod("add_timer", expires)
}

func (t *Timer) mod(fn string, expires time.Duration) bool {
	_, was, spawn, ok := t.arm(expires)
	if !ok {
		return false
	}
	t.emit(KindTimer, fn, fmt.Sprintf("%s expires %v", t.name, expires))
	if spawn {
		t.startTask()
	}
	return was
}

// arm sets the timer's expiry and reports its new generation, whether it
// was pending, and whether its simulator task must be started; ok is
// false after Shutdown.
func (t *Timer) arm(expires time.Duration) (gen uint64, was, spawn, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shutdown {
		return 0, false, false, false
	}
	was = t.pending
	t.pending, t.expires = true, expires
	t.gen++
	gen = t.gen
	if t.stop != nil {
		t.stop()
		t.stop = nil
	}
	if stop, plain := t.e.AtTime(expires, func() { t.fire(gen) }); plain {
		t.stop = stop
		return gen, was, false, true
	}
	if !t.task {
		t.task = true
		spawn = true
	}
	return gen, was, spawn, true
}

// startTask starts the simulator task that runs the timer.
func (t *Timer) startTask() {
	if t.e.Spawn("timer/"+t.name, t.taskMain, t.abandon) {
		return
	}
	t.abandon()
	t.emit(trace.Warn, "mod_timer", t.name+": armed outside a simulated task and its setup; it never fires")
}

func (t *Timer) abandon() {
	t.mu.Lock()
	t.task = false
	t.mu.Unlock()
}

// taskMain is the timer's simulator task: it sleeps until the expiry,
// waking early when the timer is modified or deleted, fires, and ends
// when the timer is no longer armed.
func (t *Timer) taskMain() {
	e := t.e
	clock, _ := e.Scheduler().(sched.Clock)
	for {
		t.mu.Lock()
		if !t.pending {
			t.task = false
			t.mu.Unlock()
			return
		}
		gen, expires := t.gen, t.expires
		t.mu.Unlock()
		if d := expires - e.Now(); d > 0 && clock != nil {
			changed := func() bool {
				t.mu.Lock()
				defer t.mu.Unlock()
				return t.gen != gen
			}
			if clock.BlockTimeout(sched.Wait{What: "timer " + t.name}, changed, d) {
				continue
			}
		}
		t.fire(gen)
	}
}

// fire runs the callback for the arming gen unless the timer was
// modified or deleted since (expire_timers, call_timer_fn).
func (t *Timer) fire(gen uint64) {
	e := t.e
	t.mu.Lock()
	if !t.pending || t.gen != gen {
		t.mu.Unlock()
		return
	}
	t.pending, t.running, t.firing, t.runner = false, true, gen, e.Holder()
	t.stop = nil
	t.mu.Unlock()
	defer func() {
		e.ExitAtomic()
		t.mu.Lock()
		t.running, t.runner = false, env.Holder{}
		t.mu.Unlock()
		t.q.WakeAll()
	}()
	e.EnterAtomic(ctxSoftTimer + t.name)
	if e.Scheduler() == nil {
		defer oops(e, "timer "+t.name)
	}
	// The timer is no longer pending (timer_delete finds nothing to
	// delete) and its callback has not started: a schedule point, the
	// window in which a driver that deletes without waiting frees what
	// the callback uses.
	e.Yield(sched.Point{Kind: "call_timer_fn", Obj: t.name})
	t.emit(KindTimer, "call_timer_fn", t.name)
	t.fn(t)
}

// firingGen is the arming generation whose callback runs now.
func (t *Timer) firingGen() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.firing
}

// Delete is timer_delete (del_timer): it disarms the timer and reports
// whether it was pending. It does not wait for a running callback.
func (t *Timer) Delete() bool {
	t.e.Yield(sched.Point{Kind: "timer_delete", Obj: t.name})
	was := t.disarm()
	if was {
		t.emit(KindTimer, "timer_delete", t.name)
	}
	return was
}

// disarm takes the timer off the clock and reports whether it was
// pending; no schedule point, no wait.
func (t *Timer) disarm() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	was := t.pending
	t.pending = false
	t.gen++
	if t.stop != nil {
		t.stop()
		t.stop = nil
	}
	return was
}

// DeleteSync is timer_delete_sync (del_timer_sync): Delete, then wait
// until a running callback has returned, so that afterwards the callback
// runs nowhere (unless something re-arms the timer). Called from the
// timer's own callback it would wait for itself: lockdep reports it and
// it returns without waiting. Calling it from a hard interrupt handler
// draws the kernel's warning.
func (t *Timer) DeleteSync() bool { return t.deleteSync("timer_delete_sync", false) }

// ShutdownSync is timer_shutdown_sync: DeleteSync, and the timer can no
// longer be armed (Mod and Add do nothing), so a callback that re-arms
// itself stops too. Use it before freeing what the callback uses.
func (t *Timer) ShutdownSync() bool { return t.deleteSync("timer_shutdown_sync", true) }

func (t *Timer) deleteSync(fn string, shutdown bool) bool {
	e := t.e
	e.Yield(sched.Point{Kind: fn, Obj: t.name})
	if c := contextOf(e); c.hardirq {
		t.emit(trace.Warn, fn, t.name+": called from hard interrupt context ("+c.what+"), which may deadlock")
	}
	t.mu.Lock()
	if shutdown {
		t.shutdown = true
	}
	if t.running && e.IsSelf(t.runner) {
		t.mu.Unlock()
		was := t.disarm()
		e.Report("lockdep", &env.Report{Kind: env.BugLockdep, Title: "WARNING: possible recursive locking detected",
			Details: fmt.Sprintf("task %s is trying to acquire (timer)%s in %s but already holds it: the timer's callback waits for itself.\n*** DEADLOCK ***\n",
				env.OrSetup(e.Current()), t.name, fn)})
		return was
	}
	t.mu.Unlock()
	was := t.disarm()
	msg := t.name
	if r := t.runnerName(); r != "" {
		msg += ", waiting for the callback on " + r
	}
	t.emit(KindTimer, fn, msg)
	t.q.block(sched.Wait{What: fn + " " + t.name, Holder: t.runnerName}, func() bool {
		t.mu.Lock()
		defer t.mu.Unlock()
		return !t.running
	})
	return was
}

// runnerName names the task running the callback ("" when none).
func (t *Timer) runnerName() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.running {
		return ""
	}
	return t.runner.String()
}

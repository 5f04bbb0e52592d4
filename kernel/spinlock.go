package kernel

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// SpinLock is the kernel's spinlock_t (spin_lock_init, spin_lock,
// spin_unlock, spin_lock_irqsave, spin_unlock_irqrestore, spin_lock_bh,
// spin_trylock) with lockdep.
//
// Holding one puts the task in atomic context (env.Env.EnterAtomic), so
// any sleeping primitive it calls (Mutex.Lock, WaitQueue.Wait, Msleep,
// flush_work, synchronize_irq, a device lock, synchronize_srcu) draws the
// kernel's "BUG: sleeping function called from invalid context".
// LockIRQSave also disables interrupts and LockBH softirqs for the holder,
// which is what lockdep's irq-safety check looks at: a lock taken in a
// hard interrupt handler and, elsewhere, with interrupts enabled (or in a
// timer callback and elsewhere with softirqs enabled) draws "WARNING:
// inconsistent lock state", since the interrupt can arrive on the CPU that
// holds the lock and spin forever.
//
// With lockdep on, taking a spinlock the caller holds is reported as
// recursive locking and then panics (the kernel would spin forever), and
// unlocking one the caller does not hold is a bad unlock balance. Lock is
// a schedule point under the simulator, and a contended Lock waits
// through the scheduler (never spinning a goroutine), so a deadlock is
// reported with the holder; in the plain environment it waits on a
// condition variable. Lock and Unlock record trace.Lock events. The zero
// value is not usable; create one with NewSpinLock.
type SpinLock struct {
	e    *env.Env
	name string

	mu     sync.Mutex
	cond   *sync.Cond
	held   bool
	holder env.Holder

	// lockdep's usage state of the lock, with the first task and context
	// of each usage (for the report).
	usage    [4]string // by usage bit; "" when never seen
	reported bool
}

// Lockdep usage bits of a lock, the kernel's LOCK_USED_IN_HARDIRQ ...
const (
	usedInHardirq = iota // taken in a hard interrupt handler
	usedHardirqOn        // taken with interrupts enabled
	usedInSoftirq        // taken in a softirq (a timer callback)
	usedSoftirqOn        // taken with softirqs enabled
)

var usageNames = [4]string{"{IN-HARDIRQ-W}", "{HARDIRQ-ON-W}", "{IN-SOFTIRQ-W}", "{SOFTIRQ-ON-W}"}

// NewSpinLock returns an unlocked spinlock named name (spin_lock_init) in
// h's environment.
func NewSpinLock(h env.Host, name string) *SpinLock {
	l := &SpinLock{e: env.Of(h), name: name}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// Name returns the lock's name.
func (l *SpinLock) Name() string { return l.name }

// IsLocked reports whether anyone holds the lock (spin_is_locked).
func (l *SpinLock) IsLocked() bool { return !l.free() }

// Holder names the task holding the lock ("" when free).
func (l *SpinLock) Holder() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held {
		return ""
	}
	return l.holder.String()
}

func (l *SpinLock) free() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.held
}

func (l *SpinLock) emit(fn string) {
	l.e.Log().Emit(trace.Event{Kind: trace.Lock, Func: fn, Msg: l.name})
}

// Lock is spin_lock: it takes the lock, waiting while another task holds
// it, and enters atomic context.
func (l *SpinLock) Lock() { l.lock("spin_lock") }

// Unlock is spin_unlock: it releases the lock and leaves the atomic
// context Lock entered.
func (l *SpinLock) Unlock() { l.unlock("spin_unlock") }

// IRQSaveFlags is the interrupt state spin_lock_irqsave saves and
// spin_unlock_irqrestore restores (the kernel's unsigned long flags).
type IRQSaveFlags struct{ saved bool }

// LockIRQSave is spin_lock_irqsave: interrupts off for the caller
// (local_irq_save), then Lock. Restore with UnlockIRQRestore.
func (l *SpinLock) LockIRQSave() IRQSaveFlags {
	l.e.EnterAtomic(ctxIRQsOff)
	l.lock("spin_lock_irqsave")
	return IRQSaveFlags{saved: true}
}

// UnlockIRQRestore is spin_unlock_irqrestore: Unlock, then the interrupt
// state LockIRQSave saved.
func (l *SpinLock) UnlockIRQRestore(flags IRQSaveFlags) {
	l.unlock("spin_unlock_irqrestore")
	if flags.saved {
		l.e.ExitAtomic()
	}
}

// LockBH is spin_lock_bh: softirqs (timer callbacks) off for the caller
// (local_bh_disable), then Lock. Release with UnlockBH.
func (l *SpinLock) LockBH() {
	l.e.EnterAtomic(ctxBHOff)
	l.lock("spin_lock_bh")
}

// UnlockBH is spin_unlock_bh: Unlock, then softirqs back on.
func (l *SpinLock) UnlockBH() {
	l.unlock("spin_unlock_bh")
	l.e.ExitAtomic()
}

// TryLock is spin_trylock: it takes the lock if it is free, entering
// atomic context, and reports whether it did. It never waits; on a lock
// the caller holds it returns false, as the kernel's does.
func (l *SpinLock) TryLock() bool {
	e := l.e
	e.Yield(sched.Point{Kind: "spin_trylock", Obj: l.name})
	me := e.Holder()
	l.mu.Lock()
	if l.held {
		l.mu.Unlock()
		return false
	}
	l.held, l.holder = true, me
	l.mu.Unlock()
	l.checkUsage()
	e.EnterAtomic(ctxSpinlock + l.name)
	l.emit("spin_trylock")
	return true
}

func (l *SpinLock) lock(fn string) {
	e := l.e
	e.Yield(sched.Point{Kind: "spin_lock", Func: fn, Obj: l.name})
	l.checkUsage()
	me := e.Holder()
	l.mu.Lock()
	if l.held && e.Lockdep() && l.holder.Owner == me.Owner {
		l.mu.Unlock()
		e.Report("lockdep", &env.Report{Kind: env.BugLockdep, Title: "WARNING: possible recursive locking detected",
			Details: fmt.Sprintf("task %s is trying to acquire spinlock %s but already holds it.\n*** DEADLOCK ***: %s would spin forever.\n",
				env.OrSetup(me.Task), l.name, fn)})
		panic(fmt.Sprintf("kernel: possible recursive locking: %s already holds spinlock %s", me, l.name))
	}
	if s := e.Scheduler(); s != nil {
		contended, holder := l.held, l.holder
		l.mu.Unlock()
		if contended {
			l.e.Log().Emit(trace.Event{Kind: trace.Lock, Func: fn, Msg: l.name + ": spinning, held by " + holder.String()})
		}
		s.Block(sched.Wait{What: "spinlock " + l.name, Holder: l.Holder}, l.free)
		l.mu.Lock()
	} else {
		for l.held {
			l.cond.Wait()
		}
	}
	l.held, l.holder = true, me
	l.mu.Unlock()
	e.EnterAtomic(ctxSpinlock + l.name)
	l.emit(fn)
}

func (l *SpinLock) unlock(fn string) {
	e := l.e
	l.mu.Lock()
	if !l.held || (e.Lockdep() && !e.IsSelf(l.holder)) {
		held, holder := l.held, l.holder
		l.mu.Unlock()
		who := "nobody"
		if held {
			who = holder.String()
		}
		e.Report("lockdep", &env.Report{Kind: env.BugLockdep, Title: "WARNING: bad unlock balance detected",
			Details: fmt.Sprintf("task %s is trying to release spinlock %s (%s), held by %s.\n", env.OrSetup(e.Current()), l.name, fn, who)})
		if !held {
			return
		}
		// Released anyway, as the kernel's spin_unlock does; the holder
		// stays in the atomic context its Lock entered.
		l.mu.Lock()
		l.held, l.holder = false, env.Holder{}
		l.cond.Broadcast()
		l.mu.Unlock()
		l.emit(fn)
		return
	}
	l.held, l.holder = false, env.Holder{}
	l.cond.Broadcast()
	l.mu.Unlock()
	e.ExitAtomic()
	l.emit(fn)
}

// checkUsage is lockdep's irq-safety check (mark_lock_irq): it records in
// which interrupt state the caller takes the lock and reports the first
// inconsistency, once per lock.
func (l *SpinLock) checkUsage() {
	e := l.e
	if !e.Lockdep() {
		return
	}
	c := contextOf(e)
	who := env.OrSetup(e.Current())
	var bits []int
	switch {
	case c.hardirq:
		bits = append(bits, usedInHardirq)
	case !c.irqsOff:
		bits = append(bits, usedHardirqOn)
	}
	switch {
	case c.softirq && !c.hardirq:
		bits = append(bits, usedInSoftirq)
	case !c.bhOff:
		bits = append(bits, usedSoftirqOn)
	}
	l.mu.Lock()
	var newBit, oldBit = -1, -1
	for _, b := range bits {
		if l.usage[b] != "" {
			continue
		}
		where := "task " + who
		if c.what != "" && (b == usedInHardirq || b == usedInSoftirq) {
			where += " (" + c.what + ")"
		}
		l.usage[b] = where
		if other := b ^ 1; l.usage[other] != "" && !l.reported && newBit < 0 {
			newBit, oldBit = b, other
		}
	}
	if newBit < 0 {
		l.mu.Unlock()
		return
	}
	l.reported = true
	oldWhere := l.usage[oldBit]
	l.mu.Unlock()
	irq, fix := "an interrupt", "spin_lock_irqsave"
	if newBit >= usedInSoftirq {
		irq, fix = "a softirq (timer callback)", "spin_lock_bh"
	}
	e.Report("lockdep", &env.Report{Kind: env.BugLockdep, Title: "WARNING: inconsistent lock state",
		Details: fmt.Sprintf("inconsistent %s -> %s usage.\n%s takes spinlock %s: %s\n%s state was registered by %s.\n"+
			"Possible unsafe locking scenario: %s that takes spinlock %s arrives on the CPU holding it.\n"+
			" *** DEADLOCK ***\nFix: take it with %s outside the handler.\n",
			usageNames[oldBit], usageNames[newBit], who, l.name, usageNames[newBit], usageNames[oldBit], oldWhere, irq, l.name, fix)})
}

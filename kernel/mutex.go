package kernel

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Mutex is the kernel's struct mutex (mutex_init, mutex_lock,
// mutex_unlock) with CONFIG_DEBUG_MUTEXES and lockdep. Lock and Unlock
// record trace.Lock events named after the mutex. Lock is a schedule
// point under the simulator and waits through it, so a deadlock report
// names the holder. With lockdep on, taking a mutex the caller holds is
// reported as recursive locking and unlocking one it does not hold as a
// bad unlock balance (under the simulator either fails the run; in the
// plain environment the report is filed and a recursive Lock panics
// instead of hanging). Lock may sleep: called in atomic context it is
// reported. The zero value is not usable; create one with NewMutex.
type Mutex struct {
	e     *env.Env
	name  string
	quiet bool

	mu     sync.Mutex
	cond   *sync.Cond
	held   bool
	holder env.Holder
}

// NewMutex returns an unlocked mutex named name (mutex_init) in h's
// environment.
func NewMutex(h env.Host, name string) *Mutex {
	m := &Mutex{e: env.Of(h), name: name}
	m.cond = sync.NewCond(&m.mu)
	return m
}

// NewQuietMutex is NewMutex for a lock whose every acquisition would only
// add noise to the trace (a minor-number table's): no trace events, the
// same checks.
func NewQuietMutex(h env.Host, name string) *Mutex {
	m := NewMutex(h, name)
	m.quiet = true
	return m
}

// Name returns the mutex's name.
func (m *Mutex) Name() string { return m.name }

func (m *Mutex) emit(fn, msg string) {
	if !m.quiet {
		m.e.Log().Emit(trace.Event{Kind: trace.Lock, Func: fn, Msg: msg})
	}
}

func (m *Mutex) free() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.held
}

// Holder names the task holding the mutex ("" when free).
func (m *Mutex) Holder() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.held {
		return ""
	}
	return m.holder.String()
}

// IsLocked reports whether anyone holds the mutex (mutex_is_locked).
func (m *Mutex) IsLocked() bool { return !m.free() }

// Lock is mutex_lock: it takes the mutex, sleeping while another task
// holds it.
func (m *Mutex) Lock() {
	e := m.e
	e.MightSleep("mutex_lock " + m.name)
	e.Yield(sched.Point{Kind: "mutex_lock", Obj: m.name})
	me := e.Holder()
	m.mu.Lock()
	if m.held && e.Lockdep() && m.holder.Owner == me.Owner {
		m.mu.Unlock()
		e.Report("lockdep", &env.Report{Kind: env.BugLockdep, Title: "WARNING: possible recursive locking detected",
			Details: fmt.Sprintf("task %s is trying to acquire mutex %s but already holds it.\n", env.OrSetup(me.Task), m.name)})
		panic(fmt.Sprintf("kernel: possible recursive locking: %s already holds mutex %s", me, m.name))
	}
	contended, holder := m.held, m.holder
	if s := e.Scheduler(); s != nil {
		m.mu.Unlock()
		if contended {
			m.emit("mutex_lock", m.name+": waiting for "+holder.String())
		}
		s.Block(sched.Wait{What: "mutex " + m.name, Holder: m.Holder}, m.free)
		m.mu.Lock()
	} else {
		for m.held {
			m.cond.Wait()
		}
	}
	m.held, m.holder = true, me
	m.mu.Unlock()
	m.emit("mutex_lock", m.name)
}

// TryLock is mutex_trylock: it takes the mutex if it is free and reports
// whether it did. It never sleeps.
func (m *Mutex) TryLock() bool {
	me := m.e.Holder()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.held {
		return false
	}
	m.held, m.holder = true, me
	return true
}

// Unlock is mutex_unlock. Unlocking a free mutex, or (with lockdep) one
// another task holds, is reported as a bad unlock balance; a free mutex
// stays free.
func (m *Mutex) Unlock() {
	e := m.e
	m.mu.Lock()
	if !m.held || (e.Lockdep() && !e.IsSelf(m.holder)) {
		held, holder := m.held, m.holder
		m.mu.Unlock()
		who := "nobody"
		if held {
			who = holder.String()
		}
		e.Report("lockdep", &env.Report{Kind: env.BugLockdep, Title: "WARNING: bad unlock balance detected",
			Details: fmt.Sprintf("task %s is trying to release mutex %s, held by %s.\n", env.OrSetup(e.Current()), m.name, who)})
		if !held {
			return
		}
		m.mu.Lock()
	}
	m.held, m.holder = false, env.Holder{}
	m.cond.Broadcast()
	m.mu.Unlock()
	m.emit("mutex_unlock", m.name)
}

package ksync

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/internal/goid"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Mutex is the kernel's struct mutex (mutex_init, mutex_lock, mutex_unlock)
// on the scheduler seam. Lock and Unlock record trace.Lock events named
// after the mutex. Under a scheduler Lock is a schedule point and waits
// through Block, so a deadlock is reported with the holder's name; outside
// one it waits on a condition variable. Taking a Mutex the caller already
// holds panics (lockdep's recursive-locking report) instead of hanging.
// The zero value is not usable; create one with NewMutex.
type Mutex struct {
	h     Host
	name  string
	quiet bool

	mu     sync.Mutex
	cond   *sync.Cond
	held   bool
	holder string // task name under a scheduler
	owner  uint64 // goroutine id otherwise
}

// NewMutex returns an unlocked mutex named name (mutex_init); h gives it its
// trace log and scheduler, and may be nil.
func NewMutex(h Host, name string) *Mutex {
	m := &Mutex{h: h, name: name}
	m.cond = sync.NewCond(&m.mu)
	return m
}

// NewQuietMutex is NewMutex without trace events (for locks whose every
// acquisition would only add noise, like a minor-number table's).
func NewQuietMutex(h Host, name string) *Mutex {
	m := NewMutex(h, name)
	m.quiet = true
	return m
}

func (m *Mutex) emit(fn, msg string) {
	if !m.quiet {
		logOf(m.h).Emit(trace.Event{Kind: trace.Lock, Func: fn, Msg: msg})
	}
}

// Name returns the mutex's name.
func (m *Mutex) Name() string { return m.name }

func (m *Mutex) free() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.held
}

// Holder names the simulated task holding the mutex ("" when free, or held
// outside a controlled run).
func (m *Mutex) Holder() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.holder
}

// Lock is mutex_lock: it takes the mutex, sleeping while another task
// holds it.
func (m *Mutex) Lock() {
	s := schedOf(m.h)
	if s != nil {
		s.Yield(sched.Point{Kind: "mutex_lock", Func: "mutex_lock", Obj: m.name})
		me := s.Current()
		m.mu.Lock()
		if m.held && me != "" && m.holder == me {
			m.mu.Unlock()
			panic(fmt.Sprintf("ksync: possible recursive locking: task %s already holds mutex %s", me, m.name))
		}
		contended, holder := m.held, m.holder
		m.mu.Unlock()
		if contended {
			m.emit("mutex_lock", m.name+": waiting for "+holder)
		}
		s.Block(sched.Wait{What: "mutex " + m.name, Holder: m.Holder}, m.free)
		m.mu.Lock()
		m.held, m.holder = true, me
		m.mu.Unlock()
	} else {
		me := goid.Get()
		m.mu.Lock()
		if m.held && m.owner == me {
			m.mu.Unlock()
			panic(fmt.Sprintf("ksync: possible recursive locking: goroutine already holds mutex %s", m.name))
		}
		for m.held {
			m.cond.Wait()
		}
		m.held, m.owner = true, me
		m.mu.Unlock()
	}
	m.emit("mutex_lock", m.name)
}

// Unlock is mutex_unlock. Unlocking a free mutex panics (lockdep's bad
// unlock balance).
func (m *Mutex) Unlock() {
	m.mu.Lock()
	if !m.held {
		m.mu.Unlock()
		panic("ksync: unlock of unlocked mutex " + m.name)
	}
	m.held, m.holder, m.owner = false, "", 0
	m.cond.Broadcast()
	m.mu.Unlock()
	m.emit("mutex_unlock", m.name)
}

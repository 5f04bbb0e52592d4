package sim

import (
	"fmt"
	"time"

	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Mutex is a sleeping lock for simulated tasks, the kernel's struct mutex
// with CONFIG_DEBUG_MUTEXES and lockdep's simplest checks: it records its
// holder, so a deadlock report names who holds what each task waits for;
// taking it twice in one task or unlocking it from a task that does not
// hold it fails the run with a lockdep report. Lock is a schedule point.
// The zero value is not usable; create one with NewMutex.
type Mutex struct {
	s      *Sim
	name   string
	held   bool
	holder string
}

// NewMutex returns an unlocked mutex named name (used in reports).
func NewMutex(s *Sim, name string) *Mutex { return &Mutex{s: s, name: name} }

// Lock takes the mutex (mutex_lock), blocking while another task holds it.
func (m *Mutex) Lock() {
	me := m.s.Current()
	if m.held && me != "" && m.holder == me {
		m.s.bug(&Report{Kind: BugLockdep, Title: "WARNING: possible recursive locking detected", Task: me,
			Details: fmt.Sprintf("task %s is trying to acquire mutex %s but already holds it.\n", me, m.name)})
	}
	m.s.Yield(sched.Point{Kind: "mutex_lock", Obj: m.name})
	m.s.Block(sched.Wait{What: "mutex " + m.name, Holder: m.Holder}, func() bool { return !m.held })
	m.held, m.holder = true, me
	m.s.log.Emit(trace.Event{Kind: trace.Lock, Func: "mutex_lock", Msg: m.name})
}

// TryLock takes the mutex if it is free (mutex_trylock).
func (m *Mutex) TryLock() bool {
	if m.held {
		return false
	}
	m.held, m.holder = true, m.s.Current()
	return true
}

// Unlock releases the mutex (mutex_unlock). Unlocking a mutex the caller
// does not hold fails the run.
func (m *Mutex) Unlock() {
	me := m.s.Current()
	if !m.held || m.holder != me {
		m.s.bug(&Report{Kind: BugLockdep, Title: "WARNING: bad unlock balance detected", Task: me,
			Details: fmt.Sprintf("task %s is trying to release mutex %s, held by %q.\n", orSetup(me), m.name, m.holder)})
		return
	}
	m.held, m.holder = false, ""
	m.s.log.Emit(trace.Event{Kind: trace.Lock, Func: "mutex_unlock", Msg: m.name})
}

// Holder names the task holding the mutex, "" when free (or held by setup
// code).
func (m *Mutex) Holder() string {
	if !m.held {
		return ""
	}
	return m.holder
}

// Completion is the kernel's struct completion: tasks Wait until another
// calls Complete. Once completed it stays completed (complete_all).
type Completion struct {
	s    *Sim
	name string
	done bool
	by   string
}

// NewCompletion returns a completion named name (init_completion).
func NewCompletion(s *Sim, name string) *Completion { return &Completion{s: s, name: name} }

// Complete wakes every waiter, present and future (complete_all).
func (c *Completion) Complete() {
	c.done, c.by = true, c.s.Current()
}

// Done reports whether Complete has been called (completion_done).
func (c *Completion) Done() bool { return c.done }

// Wait blocks until Complete is called (wait_for_completion).
func (c *Completion) Wait() {
	c.s.Block(sched.Wait{What: "completion " + c.name}, func() bool { return c.done })
}

// WaitTimeout waits at most d of virtual time and reports whether the
// completion was completed (wait_for_completion_timeout).
func (c *Completion) WaitTimeout(d time.Duration) bool {
	return c.s.BlockTimeout(sched.Wait{What: "completion " + c.name}, func() bool { return c.done }, d)
}

package kernel

import (
	"sync"
	"time"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
)

// WaitQueue is the kernel's wait_queue_head_t: tasks sleep in Wait until a
// condition holds, and whoever changes the condition calls WakeAll. The
// condition is re-evaluated after every WakeAll, so no wake-up is lost even
// when it races with the waiter's first check. Under the simulator the
// scheduler re-evaluates conditions itself and WakeAll is only needed for
// real goroutines; call it anyway, as the kernel requires. The zero value
// is not usable; create one with NewWaitQueue.
type WaitQueue struct {
	e    *env.Env
	name string

	mu   sync.Mutex
	cond *sync.Cond
	gen  uint64
}

// NewWaitQueue returns a wait queue named name (init_waitqueue_head) in h's
// environment.
func NewWaitQueue(h env.Host, name string) *WaitQueue {
	q := &WaitQueue{e: env.Of(h), name: name}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Name returns the queue's name.
func (q *WaitQueue) Name() string { return q.name }

// Wait is wait_event(wq, ready()): it returns once ready() is true, at once
// if it already is. ready must not block and must not call back into the
// queue; under the simulator it is evaluated by the scheduler and what
// names the wait in deadlock reports.
func (q *WaitQueue) Wait(what string, ready func() bool) {
	if ready() {
		return
	}
	q.e.MightSleep("wait_event " + what)
	q.block(sched.Wait{What: what}, ready)
}

// block waits until ready() holds, through the scheduler under the
// simulator (w names the wait and its holder in deadlock reports), on the
// queue's condition otherwise. It is the library's one way to wait: it
// does not call might_sleep, its callers do when they may sleep.
func (q *WaitQueue) block(w sched.Wait, ready func() bool) {
	if ready() {
		return
	}
	if s := q.e.Scheduler(); s != nil {
		s.Block(w, ready)
		return
	}
	q.wait(ready, nil)
}

// WaitTimeout is wait_event_timeout: it waits at most d of virtual time
// and reports whether ready() held (false: the time ran out first). In the
// plain environment the virtual clock moves only when someone advances it
// (env.Env.Advance, a sleep), so a wait whose condition never comes lasts
// until then.
func (q *WaitQueue) WaitTimeout(what string, ready func() bool, d time.Duration) bool {
	if ready() {
		return true
	}
	if d <= 0 {
		return false
	}
	q.e.MightSleep("wait_event_timeout " + what)
	e := q.e
	if s := e.Scheduler(); s != nil {
		if c, ok := s.(sched.Clock); ok {
			return c.BlockTimeout(sched.Wait{What: what}, ready, d)
		}
		s.Block(sched.Wait{What: what}, ready)
		return true
	}
	deadline := e.Now() + d
	expired := func() bool { return e.Now() >= deadline }
	stop, _ := e.AtTime(deadline, q.WakeAll)
	defer stop()
	return q.wait(ready, expired)
}

// wait blocks a real goroutine until ready() or expired() (nil: never)
// holds, and reports whether ready did.
func (q *WaitQueue) wait(ready, expired func() bool) bool {
	for {
		q.mu.Lock()
		gen := q.gen
		q.mu.Unlock()
		if ready() {
			return true
		}
		if expired != nil && expired() {
			return false
		}
		q.mu.Lock()
		for q.gen == gen {
			q.cond.Wait()
		}
		q.mu.Unlock()
	}
}

// WakeAll is wake_up_all: every waiter re-evaluates its condition.
func (q *WaitQueue) WakeAll() {
	q.mu.Lock()
	q.gen++
	q.cond.Broadcast()
	q.mu.Unlock()
}

package ksync

import (
	"sync"

	"github.com/drvsim/drvsim/sched"
)

// WaitQueue is the kernel's wait_queue_head_t: tasks sleep in Wait until a
// condition holds, and whoever changes the condition calls WakeAll. The
// condition is re-evaluated after every WakeAll, so no wake-up is lost even
// when it races with the waiter's first check. The zero value is not
// usable; create one with NewWaitQueue.
type WaitQueue struct {
	h    Host
	name string

	mu   sync.Mutex
	cond *sync.Cond
	gen  uint64
}

// NewWaitQueue returns a wait queue named name (init_waitqueue_head); h
// gives it its scheduler and may be nil.
func NewWaitQueue(h Host, name string) *WaitQueue {
	q := &WaitQueue{h: h, name: name}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Wait is wait_event(wq, ready()): it returns once ready() is true. ready
// must not block and must not call back into the queue; under a scheduler it
// is evaluated by the scheduler itself (sched.Scheduler.Block) and what
// names the wait in deadlock reports.
func (q *WaitQueue) Wait(what string, ready func() bool) {
	if s := schedOf(q.h); s != nil {
		s.Block(sched.Wait{What: what}, ready)
		return
	}
	for {
		q.mu.Lock()
		gen := q.gen
		q.mu.Unlock()
		if ready() {
			return
		}
		q.mu.Lock()
		for q.gen == gen {
			q.cond.Wait()
		}
		q.mu.Unlock()
	}
}

// WakeAll is wake_up_all: every waiter re-evaluates its condition. (Under a
// scheduler waiters need no wake-up: the scheduler re-evaluates their
// conditions at every schedule point.)
func (q *WaitQueue) WakeAll() {
	q.mu.Lock()
	q.gen++
	q.cond.Broadcast()
	q.mu.Unlock()
}

package kernel

import (
	"math"
	"sync"
	"time"

	"github.com/drvsim/drvsim/env"
)

// Completion is the kernel's struct completion: tasks Wait until another
// calls Complete (which lets one waiter through) or CompleteAll (which
// lets every waiter through, present and future). The zero value is not
// usable; create one with NewCompletion.
type Completion struct {
	q    *WaitQueue
	name string

	mu   sync.Mutex
	done uint // completions not yet consumed; MaxUint after CompleteAll
}

// NewCompletion returns a completion named name (init_completion) in h's
// environment.
func NewCompletion(h env.Host, name string) *Completion {
	return &Completion{q: NewWaitQueue(h, "completion "+name), name: name}
}

// Complete is complete(): one waiter, present or future, gets through.
func (c *Completion) Complete() {
	c.mu.Lock()
	if c.done != math.MaxUint {
		c.done++
	}
	c.mu.Unlock()
	c.q.WakeAll()
}

// CompleteAll is complete_all(): every waiter gets through, now and later,
// until Reinit.
func (c *Completion) CompleteAll() {
	c.mu.Lock()
	c.done = math.MaxUint
	c.mu.Unlock()
	c.q.WakeAll()
}

// Reinit is reinit_completion: the completion is not done any more.
func (c *Completion) Reinit() {
	c.mu.Lock()
	c.done = 0
	c.mu.Unlock()
}

// Done reports whether a Wait would return at once (completion_done).
func (c *Completion) Done() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done > 0
}

// consume takes one completion if there is one.
func (c *Completion) consume() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.done {
	case 0:
		return false
	case math.MaxUint:
	default:
		c.done--
	}
	return true
}

// Wait is wait_for_completion: it sleeps until the completion is done and
// consumes one Complete.
func (c *Completion) Wait() {
	c.q.Wait(c.q.name, c.Done)
	for !c.consume() { // another waiter took it: wait again
		c.q.Wait(c.q.name, c.Done)
	}
}

// WaitTimeout is wait_for_completion_timeout: it waits at most d of
// virtual time and reports whether the completion came.
func (c *Completion) WaitTimeout(d time.Duration) bool {
	e := c.q.e
	deadline := e.Now() + d
	for {
		left := deadline - e.Now()
		if !c.q.WaitTimeout(c.q.name, c.Done, left) {
			return false
		}
		if c.consume() {
			return true
		}
	}
}

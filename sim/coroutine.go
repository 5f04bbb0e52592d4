package sim

import (
	"iter"
	"time"

	"github.com/drvsim/drvsim/internal/gid"
)

// A task runs on a coroutine: a goroutine started with iter.Pull, which
// runs only while the driver has resumed it and hands control back when
// it parks. Switching between coroutines is a direct hand-over on one
// thread (the runtime's coroswitch), far cheaper than waking a parked
// goroutine through the Go scheduler.
//
// A coroutine outlives its task: when the run ends it waits for a task of
// the next run, so the many short runs of an exploration reuse a few
// goroutines, with stacks already grown, instead of starting new ones.
// Within a run every task has a coroutine of its own, and so an identity
// of its own (env.Env.Self, the goroutine's id, is what locks record as
// their owner): a coroutine goes back to the pool only when its run ends. Every run's
// coroutines come from a pool: Run's own, closed when the run ends, or the
// pool of the Explore worker making the run, closed when Explore returns.

// coroutine is one reusable task goroutine.
type coroutine struct {
	resume func() (struct{}, bool)
	stop   func()
	yield  func(struct{}) bool
	gid    uint64
	task   *task // the task it runs, nil between tasks
}

// coroPool holds the coroutines waiting for a task. It is used by one run
// at a time.
type coroPool struct {
	free  []*coroutine
	timer *time.Timer     // Run's watchdog's, reused run after run
	dog   *workerWatchdog // the Explore worker's watchdog (runHere)
}

// get returns a coroutine for t: a free one, or a new one.
func (p *coroPool) get(s *Sim, t *task) *coroutine {
	var c *coroutine
	if n := len(p.free); n > 0 {
		c = p.free[n-1]
		p.free = p.free[:n-1]
		t.gid.Store(c.gid)
	} else {
		c = &coroutine{}
		c.resume, c.stop = iter.Pull(c.body)
	}
	c.task = t
	return c
}

// put returns c, whose task has ended, to the pool.
func (p *coroPool) put(c *coroutine) { p.free = append(p.free, c) }

// close ends the free coroutines and the worker's watchdog.
func (p *coroPool) close() {
	if p.dog != nil {
		p.dog.close()
		p.dog = nil
	}
	for _, c := range p.free {
		c.stop()
	}
	p.free = nil
}

// body is the coroutine's goroutine: it runs its tasks one after another,
// parking between them, until stopped. It ends after a task of a run the
// watchdog abandoned: nobody would resume it again.
func (c *coroutine) body(yield func(struct{}) bool) {
	c.yield = yield
	c.gid = gid.Get()
	for {
		t := c.task
		t.gid.Store(c.gid)
		t.s.taskMain(t)
		c.task = nil
		if t.s.abandoned.Load() || !yield(struct{}{}) {
			return
		}
	}
}

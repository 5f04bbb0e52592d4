package env

import (
	"container/heap"
	"sync"
	"time"
)

// clock is the virtual clock of the plain environment: ktime_get for
// simulated code, which never reads the wall clock. It stands still until
// something moves it: Advance (a test or the shell saying time passes), or
// a goroutine sleeping (Env.Sleep), which moves it forward by its sleep as
// if nothing else had to run meanwhile. Callbacks armed with at run, in
// order of their deadlines, on the goroutine that moves the clock past
// them. Under a simulator the simulator's clock is used instead.
type clock struct {
	mu     sync.Mutex
	now    time.Duration
	target time.Duration // the latest time the clock was moved to
	seq    uint64
	timers timerHeap
	firing bool // a goroutine is running due callbacks
}

// clockTimer is one armed callback of the plain environment's clock.
type clockTimer struct {
	at    time.Duration
	seq   uint64 // arming order: equal deadlines fire in it
	fn    func()
	index int // in the heap; -1 once fired or stopped
}

type timerHeap []*clockTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*clockTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}

func (c *clock) read() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// advanceTo moves the clock to t (if later) and runs every callback due by
// then, in deadline order, outside the lock; each callback sees the clock
// at its own deadline (as a timer callback sees jiffies at its expiry),
// and the clock ends at t. Callbacks armed while firing for a deadline not
// after t run too. A goroutine moving the clock while another fires sets
// the time at once and leaves the firing to it.
func (c *clock) advanceTo(e *Env, t time.Duration) {
	c.mu.Lock()
	if t > c.target {
		c.target = t
	}
	if c.firing {
		if t > c.now {
			c.now = t
		}
		c.mu.Unlock()
		return // the goroutine firing will see the new time
	}
	c.firing = true
	for len(c.timers) > 0 && c.timers[0].at <= c.target {
		ct := heap.Pop(&c.timers).(*clockTimer)
		if ct.at > c.now {
			c.now = ct.at
		}
		c.mu.Unlock()
		ct.fn()
		c.mu.Lock()
	}
	if c.target > c.now {
		c.now = c.target
	}
	c.firing = false
	c.mu.Unlock()
	_ = e
}

// at arms fn to run when the clock reaches deadline; stop disarms it and
// reports whether it was still armed.
func (c *clock) at(deadline time.Duration, fn func()) (stop func() bool) {
	c.mu.Lock()
	c.seq++
	ct := &clockTimer{at: deadline, seq: c.seq, fn: fn}
	heap.Push(&c.timers, ct)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if ct.index < 0 {
			return false
		}
		heap.Remove(&c.timers, ct.index)
		return true
	}
}

// Now returns the virtual time since the environment was created, the
// kernel's ktime_get: the simulator's clock under a simulator, otherwise
// the plain environment's clock, which moves only with Advance and Sleep.
func (e *Env) Now() time.Duration {
	if e.sclock != nil {
		return e.sclock.Now()
	}
	return e.clock.read()
}

// Sleep is msleep: the caller sleeps for d of virtual time. Under a
// simulator the task blocks and the simulator's clock moves when every task
// is blocked; in the plain environment the clock moves forward by d at once
// (as if nothing else had to run meanwhile) and callbacks that fall due run.
func (e *Env) Sleep(d time.Duration) {
	if e.sclock != nil {
		e.sclock.Sleep(d)
		return
	}
	if d < 0 {
		d = 0
	}
	e.clock.advanceTo(e, e.clock.read()+d)
}

// Advance moves the plain environment's clock forward by d, running the
// callbacks that fall due. Under a simulator the
// clock is the simulator's: Advance sleeps d there (setup code moves the
// clock at once; a task blocks until the others let time pass).
func (e *Env) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	if e.sclock != nil {
		e.sclock.Sleep(d)
		return
	}
	e.clock.advanceTo(e, e.clock.read()+d)
}

// AtTime arms fn to run once the plain environment's clock reaches
// deadline, on the goroutine that moves it there (Advance, Sleep); stop
// disarms it and reports whether it was still armed. Under a simulator it
// returns ok false and arms nothing: timers there are tasks that sleep.
func (e *Env) AtTime(deadline time.Duration, fn func()) (stop func() bool, ok bool) {
	if e.sclock != nil {
		return nil, false
	}
	return e.clock.at(deadline, fn), true
}

package kernel_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func TestMutexPlainGoroutines(t *testing.T) {
	e := env.New()
	m := kernel.NewMutex(e, "m")
	var n int
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				m.Lock()
				n++
				m.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 800, n)

	// lockdep: recursive locking is reported and panics instead of hanging;
	// unlocking a free mutex is reported and changes nothing.
	m.Lock()
	assert.PanicsWithValue(t, "kernel: possible recursive locking: "+e.Holder().String()+" already holds mutex m", m.Lock)
	m.Unlock()
	m.Unlock()
	kept, total := e.Reports()
	require.Equal(t, 2, total)
	assert.Equal(t, "WARNING: possible recursive locking detected", kept[0].Title)
	assert.Equal(t, "WARNING: bad unlock balance detected", kept[1].Title)
	assert.False(t, m.IsLocked())
	assert.Len(t, trace.Filter(e.Log().Events(), trace.OfKind(trace.Warn)), 2)
}

// Unlocking a mutex another task holds is a bad unlock balance.
func TestMutexUnlockByAnotherTask(t *testing.T) {
	e := env.New()
	m := kernel.NewMutex(e, "m")
	m.Lock()
	done := make(chan struct{})
	go func() { m.Unlock(); close(done) }()
	<-done
	kept, _ := e.Reports()
	require.Len(t, kept, 1)
	assert.Contains(t, kept[0].Details, "held by "+e.Holder().String())
	assert.False(t, m.IsLocked(), "released anyway, as the kernel's mutex_unlock does")
}

func TestWaitQueuePlain(t *testing.T) {
	q := kernel.NewWaitQueue(nil, "q")
	var ready atomic.Bool
	done := make(chan struct{})
	go func() {
		q.Wait("ready", ready.Load)
		close(done)
	}()
	ready.Store(true)
	q.WakeAll()
	<-done
}

// In the plain environment a timed wait ends when the virtual clock passes
// its deadline, and not before.
func TestWaitTimeoutOnVirtualClock(t *testing.T) {
	e := env.New()
	q := kernel.NewWaitQueue(e, "q")
	type result struct {
		ok         bool
		start, end time.Duration
	}
	got := make(chan result)
	go func() {
		start := e.Now()
		ok := q.WaitTimeout("never", func() bool { return false }, time.Second)
		got <- result{ok, start, e.Now()}
	}()
	var r result
	for i := 0; ; i++ {
		require.Less(t, i, 10000, "the timed wait never ended")
		e.Advance(100 * time.Millisecond)
		select {
		case r = <-got:
		default:
			runtime.Gosched()
			continue
		}
		break
	}
	assert.False(t, r.ok, "timed out")
	assert.GreaterOrEqual(t, r.end-r.start, time.Second, "not before its deadline")
	assert.True(t, q.WaitTimeout("now", func() bool { return true }, time.Second))
}

func TestCompletionCompleteLetsOneThrough(t *testing.T) {
	c := kernel.NewCompletion(nil, "c")
	c.Complete()
	c.Complete()
	assert.True(t, c.Done())
	c.Wait()
	c.Wait()
	assert.False(t, c.Done())
	c.CompleteAll()
	c.Wait()
	c.Wait()
	assert.True(t, c.Done())
	c.Reinit()
	assert.False(t, c.Done())
}

// Under sim the mutex is a schedule point and a deadlock names the holder.
func TestMutexUnderSim(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, func(s *sim.Sim) {
		m := kernel.NewMutex(s, "io_mutex")
		q := kernel.NewWaitQueue(s, "q")
		n := 0
		for _, name := range []string{"a", "b"} {
			s.Go(name, func() {
				m.Lock()
				v := n
				s.CondResched("inside")
				n = v + 1
				m.Unlock()
			})
		}
		s.Go("waiter", func() {
			q.Wait("both done", func() bool { return n == 2 })
		})
	})
	require.False(t, res.Failed(), "%s", res)
	assert.True(t, res.Exhausted)
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		m := kernel.NewMutex(s, "io_mutex")
		s.Go("holder", func() { m.Lock() })
		s.Go("waiter", func() { s.CondResched("x"); m.Lock() })
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugDeadlock, r.Failure.Kind)
	assert.Regexp(t, `INFO: task (holder|waiter) blocked on mutex io_mutex, held by (holder|waiter)`, r.Failure.Details)
}

func TestDeadlockWithUnknownHolder(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		c := kernel.NewCompletion(s, "probe_done")
		s.Go("waiter", func() { c.Wait() })
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugDeadlock, r.Failure.Kind)
	assert.Contains(t, r.Failure.Details, "INFO: task waiter blocked on completion probe_done, holder unknown\n")
	assert.Contains(t, r.Failure.Details, "  waiter -> [completion probe_done]\n")
}

func TestLockdepRecursiveLockAndBadUnlockUnderSim(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		m := kernel.NewMutex(s, "dev_lock")
		s.Go("t", func() {
			m.Lock()
			m.Lock()
		})
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugLockdep, r.Failure.Kind)
	assert.Equal(t, "WARNING: possible recursive locking detected", r.Failure.Title)
	assert.Contains(t, r.Failure.Details, "task t is trying to acquire mutex dev_lock but already holds it.")

	r = sim.Run(sim.Config{}, func(s *sim.Sim) {
		m := kernel.NewMutex(s, "dev_lock")
		s.Go("t", func() { m.Unlock() })
	})
	require.True(t, r.Failed())
	assert.Equal(t, "WARNING: bad unlock balance detected", r.Failure.Title)
}

func TestMutexAndCompletionOrderTasks(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 20000}, func(s *sim.Sim) {
		m := kernel.NewMutex(s, "m")
		c := kernel.NewCompletion(s, "ready")
		counter := 0
		for range 2 {
			s.Go("inc", func() {
				c.Wait()
				m.Lock()
				v := counter
				s.CondResched("between load and store")
				counter = v + 1
				m.Unlock()
			})
		}
		s.Go("starter", func() {
			assert.True(t, m.TryLock())
			assert.False(t, m.TryLock())
			m.Unlock()
			c.CompleteAll()
		})
		s.Go("checker", func() {
			if !c.WaitTimeout(0) {
				c.Wait()
			}
			assert.True(t, c.Done())
		})
		s.AddLeakCheck("counter", func() []string {
			if counter != 2 {
				return []string{"lost update"}
			}
			return nil
		})
	})
	require.False(t, res.Failed(), res.String())
	assert.True(t, res.Exhausted)
}

// Sleeping while atomic is lockdep's "sleeping function called from
// invalid context": a report in the plain environment, a failed run under
// the simulator.
func TestMightSleepInAtomicContext(t *testing.T) {
	e := env.New()
	m := kernel.NewMutex(e, "m")
	e.EnterAtomic("spinlock hcd_lock")
	m.Lock()
	e.ExitAtomic()
	m.Unlock()
	kept, total := e.Reports()
	require.Equal(t, 1, total)
	assert.Equal(t, "BUG: sleeping function called from invalid context at mutex_lock m", kept[0].Title)
	assert.Contains(t, kept[0].Details, "atomic because of: spinlock hcd_lock")

	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		s.Go("irq", func() {
			s.Env().EnterAtomic("hardirq 5")
			kernel.Msleep(s, time.Millisecond)
		})
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugLockdep, r.Failure.Kind)
	assert.Equal(t, "BUG: sleeping function called from invalid context at msleep", r.Failure.Title)
}

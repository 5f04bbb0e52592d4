package ksync_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/drvsim/drvsim/drivers/usbsim/ksync"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/sched"
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

type host struct {
	log *trace.Log
	s   sched.Scheduler
}

func (h host) Log() *trace.Log            { return h.log }
func (h host) Scheduler() sched.Scheduler { return h.s }

func TestMutexPlainGoroutines(t *testing.T) {
	m := ksync.NewMutex(host{log: trace.NewLog()}, "m")
	var n int
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				m.Lock()
				n++
				m.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 800, n)
	m.Lock()
	assert.Panics(t, m.Lock, "recursive locking")
	m.Unlock()
	assert.Panics(t, m.Unlock, "unlock of unlocked mutex")
}

func TestWaitQueuePlain(t *testing.T) {
	q := ksync.NewWaitQueue(nil, "q")
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

// Under sim the mutex is a schedule point and a deadlock names the holder.
func TestMutexUnderSim(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, func(s *sim.Sim) {
		h := host{log: s.Log(), s: s}
		m := ksync.NewMutex(h, "io_mutex")
		q := ksync.NewWaitQueue(h, "q")
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
		m := ksync.NewMutex(host{log: s.Log(), s: s}, "io_mutex")
		s.Go("holder", func() { m.Lock() })
		s.Go("waiter", func() { s.CondResched("x"); m.Lock() })
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugDeadlock, r.Failure.Kind)
	assert.Contains(t, r.Failure.Details, "io_mutex")
}

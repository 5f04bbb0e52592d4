package klib_test

import (
	"fmt"
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// TestSRCUWaitsForReader: a reader that found the data published inside
// its section can use it until it leaves, in every interleaving (the
// writer unpublishes, waits for a grace period, then frees).
func TestSRCUWaitsForReader(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.EnvConfig(t.Name(), 1)}, func(s *sim.Sim) {
		k := klib.New(s)
		obj := k.Kzalloc("domain")
		data := k.Kzalloc("data")
		published := data
		var ssp klib.SRCUStruct
		ssp.Init(k, obj, "ssp")
		users := 2
		done := func() {
			if users--; users == 0 {
				ssp.Cleanup()
				klib.Kfree(obj)
			}
		}
		s.Go("reader", func() {
			idx := ssp.ReadLock()
			if p := published; p != nil {
				p.Access("read")
				s.CondResched("inside")
				p.Access("read")
			}
			ssp.ReadUnlock(idx)
			done()
		})
		s.Go("writer", func() {
			published = nil
			ssp.Synchronize()
			klib.Kfree(data)
			done()
		})
	})
	require.False(t, res.Failed(), res.String())
	assert.True(t, res.Exhausted)
}

// TestSRCUWrongIndexHangs: an unlock with the wrong index unbalances both
// indexes and the next grace period hangs.
func TestSRCUWrongIndexHangs(t *testing.T) {
	res := sim.Run(sim.Config{Test: t.Name()}, func(s *sim.Sim) {
		k := klib.New(s)
		var ssp klib.SRCUStruct
		ssp.Init(k, k.Kzalloc("domain"), "ssp")
		readerDone := false
		s.Go("reader", func() {
			idx := ssp.ReadLock()
			ssp.ReadUnlock(idx ^ 1)
			readerDone = true
		})
		s.Go("writer", func() {
			s.Block(schedWait("reader done"), func() bool { return readerDone })
			ssp.Synchronize()
		})
	})
	require.True(t, res.Failed())
	assert.Equal(t, sim.BugDeadlock, res.Failure.Kind)
	assert.Contains(t, res.String(), "writer -> [synchronize_srcu ssp (scan 1: idx 1 has 0 locks, 1 unlocks)]")
	assert.Contains(t, res.TraceText(), "wrong epoch")
}

// TestKfreeRCUWaitsForReaders: kfree_rcu's callback waits for a reader
// already inside rcu_read_lock, but not for one entering later.
func TestKfreeRCUWaitsForReaders(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.EnvConfig(t.Name(), 1)}, func(s *sim.Sim) {
		k := klib.New(s)
		obj := k.Kzalloc("obj")
		queued := false
		s.Go("reader", func() {
			before := !queued // no schedule point until the section is entered
			k.RCUReadLock()
			if before {
				s.Block(schedWait("queued"), func() bool { return queued })
				obj.Access("read") // inside since before kfree_rcu: still valid
			}
			k.RCUReadUnlock()
		})
		s.Go("freer", func() {
			queued = true
			k.KfreeRCU(obj, "test")
		})
	})
	require.False(t, res.Failed(), res.String())
	assert.True(t, res.Exhausted)
}

// TestKrefGetUnlessZero covers kref_get_unless_zero and a zero kref_get.
func TestKrefGetUnlessZero(t *testing.T) {
	res := sim.Run(sim.Config{Test: t.Name()}, func(s *sim.Sim) {
		k := klib.New(s)
		obj := k.Kzalloc("obj")
		var r klib.Kref
		r.Init(k, obj)
		if !r.GetUnlessZero() || r.Read() != 2 {
			panic("get_unless_zero on 1")
		}
		released := false
		r.Put(func(*klib.Kref) {})
		r.Put(func(*klib.Kref) { released = true })
		if !released || r.GetUnlessZero() {
			panic("count 0")
		}
		r.Get()
		klib.Kfree(obj)
	})
	require.False(t, res.Failed(), res.String())
	assert.Contains(t, res.TraceText(), "refcount_t: addition on 0")
}

// TestCounts: the kernel model counts the primitives it runs, and Sub
// gives those of a window.
func TestCounts(t *testing.T) {
	res := sim.Run(sim.Config{Test: t.Name()}, func(s *sim.Sim) {
		k := klib.New(s)
		obj := k.Kzalloc("obj")
		var r klib.Kref
		var ssp klib.SRCUStruct
		r.Init(k, obj)
		ssp.Init(k, obj, "ssp")
		s.Go("t", func() {
			before := k.Counts()
			r.Get()
			r.GetUnlessZero()
			k.RCUReadLock()
			idx := ssp.ReadLock()
			k.Preempt("inside")
			ssp.ReadUnlock(idx)
			k.RCUReadUnlock()
			r.Put(func(*klib.Kref) {})
			c := k.Counts().Sub(before)
			want := klib.Counts{KrefGet: 1, KrefGetUnlessZero: 1, KrefPut: 1, SRCULock: 1, SRCUUnlock: 1, RCULock: 1}
			if c != want || c.SharedWrites() != 3 {
				panic(fmt.Sprintf("counts %+v, want %+v", c, want))
			}
			if k.Counts().Kzalloc != 1 {
				panic("kzalloc not counted")
			}
			ssp.Cleanup()
			klib.Kfree(obj)
		})
	})
	require.False(t, res.Failed(), res.String())
	assert.Contains(t, res.ScheduleText(), "preempt inside")
}

// TestCleanupMightSleep: cleanup_srcu_struct in atomic context is
// might_sleep's BUG.
func TestCleanupMightSleep(t *testing.T) {
	res := sim.Run(sim.Config{Test: t.Name()}, func(s *sim.Sim) {
		k := klib.New(s)
		obj := k.Kzalloc("obj")
		var ssp klib.SRCUStruct
		ssp.Init(k, obj, "ssp")
		s.Go("irq", func() {
			s.Env().EnterAtomic("hardirq 5")
			ssp.Cleanup()
		})
	})
	require.True(t, res.Failed())
	assert.Equal(t, sim.BugLockdep, res.Failure.Kind)
	assert.Contains(t, res.String(), "BUG: sleeping function called from invalid context at cleanup_srcu_struct")
}

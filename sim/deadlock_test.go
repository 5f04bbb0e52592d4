package sim_test

import (
	"testing"

	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/sim/toy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeadlockFoundByExhaustiveSearch(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.EnvConfig(t.Name(), 0)}, toy.ABBA)
	require.True(t, res.Failed(), res.String())
	f := res.Failure.Failure
	assert.Equal(t, sim.BugDeadlock, f.Kind)
	assert.Equal(t, "BUG: deadlock: 2 tasks blocked forever", f.Title)
	assert.Contains(t, f.Details, "INFO: task t1 blocked on mutex B, held by t2\n")
	assert.Contains(t, f.Details, "INFO: task t2 blocked on mutex A, held by t1\n")
	assert.Contains(t, f.Details, "wait-for chain:\n  t1 -> [mutex B] -> t2 -> [mutex A] -> t1 (cycle)\n")
	assert.Contains(t, res.String(), "replay: DRVSIM_SCHEDULE=")
	t.Log("\n" + res.String())

	// The recorded schedule replays the same deadlock.
	rep := sim.Run(sim.Config{Replay: res.Failure.Schedule(), Test: t.Name()}, toy.ABBA)
	assert.Equal(t, res.Failure.String(), rep.String())
}

func TestDeadlockWithUnknownHolder(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		c := sim.NewCompletion(s, "probe_done")
		s.Go("waiter", func() { c.Wait() })
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugDeadlock, r.Failure.Kind)
	assert.Contains(t, r.Failure.Details, "INFO: task waiter blocked on completion probe_done, holder unknown\n")
	assert.Contains(t, r.Failure.Details, "  waiter -> [completion probe_done]\n")
}

func TestLockdepRecursiveLockAndBadUnlock(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		m := sim.NewMutex(s, "dev_lock")
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
		m := sim.NewMutex(s, "dev_lock")
		s.Go("t", func() { m.Unlock() })
	})
	require.True(t, r.Failed())
	assert.Equal(t, "WARNING: bad unlock balance detected", r.Failure.Title)
}

func TestMutexAndCompletionOrderTasks(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 20000}, func(s *sim.Sim) {
		m := sim.NewMutex(s, "m")
		c := sim.NewCompletion(s, "ready")
		counter := 0
		for i := 0; i < 2; i++ {
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
			c.Complete()
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
	t.Logf("%d schedules", res.Schedules)
}

//lint:file-ignore SA2001 the tests take locks with empty critical sections on purpose: the lock itself is under test

package kernel_test

import (
	"strings"
	"testing"
	"time"

	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cancelVsRunning is the classic teardown: a driver schedules work that
// uses its buffer, then cancels the work and frees the buffer. With
// cancel_work_sync no interleaving touches freed memory; with cancel_work
// (which does not wait for a running instance) the explorer finds the one
// that does.
func cancelVsRunning(sync bool) func(s *sim.Sim) {
	return func(s *sim.Sim) {
		buf := s.Alloc("rx_buf")
		w := kernel.NewWork(s, "rx_work", func(*kernel.Work) {
			kernel.CondResched(s, "rx_work middle")
			buf.Access("read rx_buf")
		})
		s.Go("remove", func() {
			kernel.ScheduleWork(w)
			kernel.CondResched(s, "before cancel")
			if sync {
				w.CancelSync()
			} else {
				w.Cancel()
			}
			buf.Free()
		})
	}
}

func TestCancelWorkSyncVsRunningWorkExhaustive(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, cancelVsRunning(true))
	require.False(t, res.Failed(), "%s", res)
	assert.True(t, res.Exhausted)
	assert.GreaterOrEqual(t, res.Schedules, 3)

	res = sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, cancelVsRunning(false))
	require.True(t, res.Failed(), "cancel_work does not wait: %s", res)
	f := res.Failure.Failure
	assert.Equal(t, sim.BugUseAfterFree, f.Kind)
	assert.Equal(t, "BUG: KASAN: use-after-free in read rx_buf", f.Title)
	assert.Equal(t, "kworker/events", f.Task)
}

func TestWorkRunsAsKworkerTask(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		wq, err := kernel.AllocOrderedWorkqueue(s, "fw", 0)
		require.NoError(t, err)
		var order []string
		for _, n := range []string{"a", "b"} {
			wq.Queue(kernel.NewWork(s, n, func(w *kernel.Work) {
				assert.Equal(t, "kworker/fw", s.Current())
				order = append(order, w.Name())
			}))
		}
		s.Go("main", func() {
			wq.Flush()
			assert.Equal(t, []string{"a", "b"}, order)
			wq.Destroy()
		})
	})
	require.False(t, r.Failed(), "%s", r)
	text := r.TraceText()
	assert.Contains(t, text, "wake_up_new_task: kworker/fw")
	assert.Contains(t, text, "[kworker/fw] process_one_work: a")
	assert.Contains(t, text, "[main] destroy_workqueue: fw")
	assert.Equal(t, 1, strings.Count(text, "wake_up_new_task: kworker/fw"), "one worker ran both: %s", text)
}

// A flusher holding a lock the work needs deadlocks; the report names the
// kworker as the holder of the flush and the flusher as the mutex's.
func TestFlushWorkDeadlockUnderSim(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		m := kernel.NewMutex(s, "state_lock")
		w := kernel.NewWork(s, "update", func(*kernel.Work) { m.Lock(); m.Unlock() })
		s.Go("remove", func() {
			m.Lock()
			kernel.ScheduleWork(w)
			kernel.CondResched(s, "let it start")
			w.Flush()
			m.Unlock()
		})
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugDeadlock, r.Failure.Kind)
	assert.Contains(t, r.Failure.Details, "blocked on flush_work update, held by kworker/events")
	assert.Contains(t, r.Failure.Details, "blocked on mutex state_lock, held by remove")
}

func TestFlushWorkqueueUnderSimExhaustive(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 100000}, func(s *sim.Sim) {
		wq, err := kernel.AllocWorkqueue(s, "par", kernel.WQUnbound, 2)
		require.NoError(t, err)
		done := map[string]bool{}
		s.Go("driver", func() {
			for _, n := range []string{"a", "b"} {
				wq.Queue(kernel.NewWork(s, n, func(w *kernel.Work) {
					kernel.CondResched(s, w.Name())
					done[w.Name()] = true
				}))
			}
			wq.Flush()
			if !done["a"] || !done["b"] {
				panic("flush_workqueue returned before the work queued earlier finished")
			}
			wq.Destroy()
		})
	})
	require.False(t, res.Failed(), "%s", res)
	assert.True(t, res.Exhausted, "%s", res)
}

func TestDelayedWorkUnderSimFiresOnVirtualClock(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		var at time.Duration
		dw := kernel.NewDelayedWork(s, "watchdog", func(*kernel.DelayedWork) { at = s.Now() })
		s.Go("driver", func() {
			kernel.ScheduleDelayedWork(dw, 10*time.Millisecond)
			kernel.Msleep(s, 4*time.Millisecond)
			assert.True(t, dw.Pending())
			kernel.SystemWQ(s).ModDelayed(dw, 10*time.Millisecond) // now 14ms
			dw.Work().Flush()                                      // timer not fired: nothing queued
			kernel.Msleep(s, 20*time.Millisecond)
			assert.Equal(t, 14*time.Millisecond, at)
		})
	})
	require.False(t, r.Failed(), "%s", r)
	assert.Contains(t, r.TraceText(), "[timer/watchdog] delayed_work_timer_fn: watchdog on events")
}

func TestCancelDelayedWorkSyncUnderSimExhaustive(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 100000}, func(s *sim.Sim) {
		state := s.Alloc("state")
		var dw *kernel.DelayedWork
		dw = kernel.NewDelayedWork(s, "poll", func(*kernel.DelayedWork) {
			state.Access("poll state")
			kernel.ScheduleDelayedWork(dw, time.Millisecond) // re-arms itself
		})
		s.Go("remove", func() {
			kernel.ScheduleDelayedWork(dw, time.Millisecond)
			kernel.Msleep(s, 2*time.Millisecond)
			dw.CancelSync()
			state.Free()
		})
	})
	require.False(t, res.Failed(), "%s", res)
	assert.True(t, res.Exhausted, "%s", res)
}

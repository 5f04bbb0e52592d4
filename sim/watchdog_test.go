package sim_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/sim/toy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A short watchdog for the tests that get stuck on purpose.
const watchdog = 200 * time.Millisecond

// A task waiting on a plain Go channel would hang the run: the watchdog
// reports it with its last schedule point and its stack, and the run
// ends. Its goroutine is abandoned until the channel is closed; then it
// unwinds, and goleak (TestMain) sees nothing left.
func TestTaskBlockedOnGoChannelIsReported(t *testing.T) {
	ch := make(chan struct{})
	defer close(ch)
	r := sim.Run(sim.Config{Watchdog: watchdog, Replay: []string{"reader", "reader"}}, toy.WaitsOnGoChannel(ch))
	require.True(t, r.Failed())
	f := r.Failure
	assert.Equal(t, sim.BugHung, f.Kind)
	assert.Equal(t, "INFO: task reader blocked outside the scheduler for more than 200ms", f.Title)
	assert.Equal(t, "reader", f.Task)
	assert.Contains(t, f.Details, "task reader waits in [chan receive], which the simulator does not control")
	assert.Contains(t, f.Details, "Last schedule point of reader: step 2, cond_resched before the wait.\n")
	assert.Contains(t, f.Details, "WaitsOnGoChannel.func1.1 (toy.go:")
	assert.Contains(t, f.Details, "Other unfinished tasks (unwound):\n  irq (runnable)\n")
	assert.Contains(t, f.Details, "it is abandoned")
	assert.NotContains(t, f.Details, "created by", "the stack is the task's own frames")
	assert.Contains(t, r.String(), "replay: DRVSIM_SCHEDULE=reader*2 go test ./sim\n", "its replay gets stuck the same way")
	t.Log("\n" + r.String())
}

// A task blocked on a sync.Mutex another task holds across a schedule
// point: reported, and unwinding the holder (its deferred Unlock) releases
// the stuck task, which unwinds too.
func TestTaskBlockedOnSyncMutexIsReportedAndUnwound(t *testing.T) {
	var mu sync.Mutex
	var unwound atomic.Int32
	r := sim.Run(sim.Config{Watchdog: watchdog, Replay: []string{"holder", "taker"}}, func(s *sim.Sim) {
		s.Go("holder", func() {
			defer unwound.Add(1)
			mu.Lock()
			defer mu.Unlock()
			s.CondResched("holding a Go mutex")
		})
		s.Go("taker", func() {
			defer unwound.Add(1)
			mu.Lock()
			defer mu.Unlock()
			s.CondResched("after the lock") // unwinds here
			t.Error("not reached")
		})
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugHung, r.Failure.Kind)
	assert.Contains(t, r.Failure.Details, "waits in [sync.Mutex.Lock]")
	assert.Contains(t, r.Failure.Details, "taker has reached no schedule point yet.\n")
	assert.Eventually(t, func() bool { return unwound.Load() == 2 }, 5*time.Second, time.Millisecond)
}

// A task that loops without a schedule point: a soft lockup.
func TestSpinningTaskIsASoftLockup(t *testing.T) {
	var stop atomic.Bool
	defer stop.Store(true)
	r := sim.Run(sim.Config{Watchdog: watchdog}, func(s *sim.Sim) {
		s.Go("spinner", func() {
			for !stop.Load() {
			}
		})
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugSoftLockup, r.Failure.Kind)
	assert.Equal(t, "BUG: soft lockup: task spinner ran for 200ms without a schedule point", r.Failure.Title)
	assert.Contains(t, r.Failure.Details, "sim_test.TestSpinningTaskIsASoftLockup.func1.1 (watchdog_test.go:")
}

// An exploration with a stuck schedule fails instead of hanging.
func TestExploreStopsAtAStuckSchedule(t *testing.T) {
	ch := make(chan struct{})
	defer close(ch)
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Config: sim.Config{Watchdog: watchdog}}, func(s *sim.Sim) {
		ready := false
		s.Go("a", func() {
			s.CondResched("a")
			if ready {
				<-ch // only when b ran first
			}
		})
		s.Go("b", func() { ready = true })
	})
	require.True(t, res.Failed())
	assert.Equal(t, sim.BugHung, res.Reported().Failure.Kind)
}

// runtime.Goexit in a task (t.FailNow, require) ends the run with a report
// instead of killing the simulator's driver.
func TestGoexitInATaskIsReported(t *testing.T) {
	var other bool
	r := sim.Run(sim.Config{Replay: []string{"quitter"}}, func(s *sim.Sim) {
		s.Go("quitter", func() {
			s.CondResched("before")
			runtime.Goexit()
		})
		s.Go("other", func() { other = true })
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugPanic, r.Failure.Kind)
	assert.Equal(t, "BUG: task quitter called runtime.Goexit", r.Failure.Title)
	assert.False(t, other, "the run stopped at the Goexit")
}

// Inside a testing/synctest bubble the watchdog's timer is the bubble's
// fake clock: when every goroutine of the run is blocked (the stuck task
// on a bubble channel, the driver on it), the clock jumps and the stuck
// task is reported at once, not after the wall-clock delay.
func TestWatchdogInSynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ch := make(chan struct{})
		start := time.Now()
		r := sim.Run(sim.Config{}, func(s *sim.Sim) { // the default watchdog, 10s
			s.Go("reader", func() { <-ch })
		})
		require.True(t, r.Failed())
		assert.Equal(t, sim.BugHung, r.Failure.Kind)
		assert.Equal(t, "INFO: task reader blocked outside the scheduler for more than 10s", r.Failure.Title)
		assert.Equal(t, 10*time.Second, time.Since(start), "fake time: exactly one watchdog period")
		close(ch) // the abandoned task returns; the bubble ends empty
	})
}

// An Explore worker drives its runs on its own goroutine, so a stuck run
// holds the worker: the worker's watchdog takes the run over and the
// worker's search carries on from its result on a fresh goroutine. Here
// the minimization meets the stuck schedule (b first) in its search of
// the schedules without preemptions, where a hang is not the failure it
// looks for; it must go on past it to the schedules where c runs first
// and finish that bound, which MinimalBound 0 and the c-first runs prove.
func TestExploreCarriesOnPastAStuckRun(t *testing.T) {
	ch := make(chan struct{})
	defer close(ch)
	for _, workers := range []int{1, 2} {
		var cFirst atomic.Int32
		res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Workers: workers, Config: sim.Config{Watchdog: watchdog}}, func(s *sim.Sim) {
			x, started := 0, false
			s.Go("a", func() {
				started, x = true, 1
				s.CondResched("half done")
				x = 0
			})
			s.Go("b", func() {
				if !started {
					<-ch // b first: stuck
				}
				if x == 1 {
					panic("b saw a half done")
				}
			})
			s.Go("c", func() {
				if !started {
					cFirst.Add(1)
				}
				started = true
			})
		})
		require.True(t, res.Failed(), "workers=%d", workers)
		assert.Equal(t, sim.BugPanic, res.Failure.Failure.Kind, "the search stops at the panic, before the stuck schedule")
		require.NotNil(t, res.Minimal)
		assert.Equal(t, 0, res.MinimalBound, "every schedule without preemptions explored, the stuck one and those after it")
		assert.True(t, res.MinimalProven)
		assert.Equal(t, 1, res.Minimal.Preemptions)
		assert.Positive(t, cFirst.Load(), "the c-first schedules come after the stuck one in the search's order")
	}
}

// runtime.Goexit in a task of an exploration ends the goroutine of the
// worker driving the run: a fresh goroutine finishes the run and carries
// on with the worker's search, and the failure is found, confirmed and
// minimized as any other, with the serial search's count.
func TestExploreCarriesOnPastGoexit(t *testing.T) {
	scenario := func(s *sim.Sim) {
		x := 0
		s.Go("a", func() {
			x = 1
			s.CondResched("half done")
			x = 0
		})
		s.Go("b", func() {
			if x == 1 {
				runtime.Goexit()
			}
		})
		s.Go("c", func() {})
	}
	var counts []int
	for _, workers := range []int{1, 2} {
		res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Workers: workers}, scenario)
		require.True(t, res.Failed(), "workers=%d", workers)
		assert.Equal(t, "BUG: task b called runtime.Goexit", res.Failure.Failure.Title)
		assert.True(t, res.MinimalProven)
		assert.Equal(t, 1, res.Reported().Preemptions)
		counts = append(counts, res.Schedules)
	}
	assert.Equal(t, counts[0], counts[1], "two workers count as one")
	assert.Greater(t, counts[0], 1, "the Goexit is not the first schedule")
}

// With the watchdog off (negative Config.Watchdog), an Explore worker has
// none: a task that runs a while without a schedule point (here 30ms of
// wall clock, many times what the worker's watchdog would poll at) is
// not reported stuck, and the search ends with its verdict.
func TestExploreWithTheWatchdogOffReportsNoStuckRun(t *testing.T) {
	for _, workers := range []int{1, 2} {
		res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Workers: workers, Config: sim.Config{Watchdog: -1}}, func(s *sim.Sim) {
			s.Go("slow", func() {
				s.CondResched("before")
				time.Sleep(30 * time.Millisecond) // no schedule point
			})
			s.Go("other", func() {})
		})
		require.False(t, res.Failed(), "workers=%d: %s", workers, res)
		assert.True(t, res.Exhausted)
	}
}

package sim_test

import (
	"fmt"

	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/sim/toy"
)

// A controlled run: two tasks, one schedule chosen by seed 3. The schedule
// and the trace are the same on every run with that seed.
func ExampleRun() {
	res := sim.Run(sim.Config{Seed: 3}, func(s *sim.Sim) {
		mu := kernel.NewMutex(s, "dev_lock")
		for _, name := range []string{"open", "unplug"} {
			s.Go(name, func() {
				mu.Lock()
				s.CondResched("critical section")
				mu.Unlock()
			})
		}
	})
	fmt.Print(res)
	fmt.Print(res.ScheduleText())
	fmt.Print(res.TraceText())
	// Output:
	// drvsim: run passed (random, seed 3, 8 steps, 1 preemptions, virtual time 0s)
	//    1 <setup>    start -> unplug
	//    2 unplug     mutex_lock dev_lock -> unplug
	//    3 unplug     cond_resched critical section -> open (preempt)
	//    4 open       mutex_lock dev_lock -> open
	//    5 open       block mutex dev_lock -> unplug
	//    6 unplug     exit -> open
	//    7 open       cond_resched critical section -> open
	//    8 open       exit
	//    1 wake_up_new_task: open
	//    2 wake_up_new_task: unplug
	//    3 schedule: start -> unplug
	//    4 [unplug] mutex_lock: dev_lock
	//    5 [unplug] schedule: cond_resched critical section -> open
	//    6 [open] mutex_lock: dev_lock: waiting for unplug
	//    7 [open] schedule: block mutex dev_lock -> unplug
	//    8 [unplug] mutex_unlock: dev_lock
	//    9 [unplug] do_exit: unplug
	//   10 [unplug] schedule: exit -> open
	//   11 [open] mutex_lock: dev_lock
	//   12 [open] mutex_unlock: dev_lock
	//   13 [open] do_exit: open
}

// Exploring every interleaving of a racy hot-unplug: the reader touches the
// device after a schedule point while unplug frees it.
func ExampleExplore() {
	racy := func(s *sim.Sim) {
		dev := s.Alloc("usb_dev")
		s.Go("reader", func() {
			s.CondResched("before read")
			dev.Access("read")
		})
		s.Go("unplug", func() { dev.Free() })
	}
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, racy)
	fmt.Println(res.Failure.Failure.Title)
	fmt.Println(res.Schedules, "schedules; replay with", sim.FormatSchedule(res.Failure.Schedule()))
	fmt.Print(res.Failure.ScheduleText())
	// Output:
	// BUG: KASAN: use-after-free in read
	// 2 schedules; replay with reader,unplug,reader
	//    1 <setup>    start -> reader
	//    2 reader     cond_resched before read -> unplug (preempt)
	//    3 unplug     exit -> reader
}

// Three processes (or machines) share one exhaustive search, each running
// its shard; the merge step gives the result one process would have.
func ExampleMergeSummaries() {
	scenario := func(s *sim.Sim) {
		for _, name := range []string{"a", "b", "c"} {
			s.Go(name, func() { s.CondResched("mid") })
		}
	}
	var sums []*sim.Summary
	for k := 1; k <= 3; k++ {
		cfg := sim.ExploreConfig{Mode: sim.Exhaustive, Shard: sim.Shard{K: k, N: 3}}
		res := sim.Explore(cfg, scenario) // in process k
		fmt.Print(res)
		sums = append(sums, res.Summary(cfg)) // written as JSON, collected
	}
	merged, err := sim.MergeSummaries(sums)
	if err != nil {
		panic(err)
	}
	fmt.Print(merged)
	// Output:
	// explore (exhaustive): 30 schedules in shard 1/3, space exhausted, no failure
	// explore (exhaustive): 30 schedules in shard 2/3, space exhausted, no failure
	// explore (exhaustive): 30 schedules in shard 3/3, space exhausted, no failure
	// explore (exhaustive): 90 schedules in 3 shards, space exhausted, no failure
	// coverage: 90 runs, 90 distinct traces, deepest 7 steps, at most 3 preemptions
}

// Four workers give the serial search's count and first failure.
func ExampleExploreConfig_workers() {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Workers: 4}, toy.CheckThenUse)
	fmt.Println(res.Schedules, "schedules;", res.Reported().Failure.Title, "with", res.Reported().Preemptions, "preemption")
	// Output:
	// 8 schedules; BUG: KASAN: use-after-free in read with 1 preemption
}

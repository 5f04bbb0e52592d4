package sim

import (
	"fmt"
	"time"

	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Now returns the virtual time of the run, the kernel's ktime_get: the
// time elapsed since the run started. It never reads the wall clock.
func (s *Sim) Now() time.Duration {
	if t := s.cur.Load(); t != nil && s.self() == nil {
		panic("sim: Now from a goroutine that is not a simulated task")
	}
	return s.now
}

// Sleep parks the calling task for d of virtual time (msleep). The clock
// advances only when every unfinished task is blocked and at least one
// sleeps or waits with a timeout: it then jumps to the earliest deadline.
// Called during setup (no task runs yet), Sleep advances the clock at once.
func (s *Sim) Sleep(d time.Duration) {
	t := s.self()
	if t == nil {
		s.outsideTask("Sleep")
		if d > 0 {
			s.now += d
		}
		return
	}
	if d <= 0 {
		s.Yield(sched.Point{Kind: "sleep", Obj: "0s"})
		return
	}
	s.block(t, sched.Wait{What: "sleep " + d.String()}, nil, true, s.now+d)
}

// BlockTimeout is Block with a timeout on the virtual clock
// (wait_event_timeout): it returns true when ready() held, false when d
// elapsed first. Outside a task it returns ready() without waiting.
func (s *Sim) BlockTimeout(w sched.Wait, ready func() bool, d time.Duration) bool {
	if ready() {
		return true
	}
	t := s.self()
	if t == nil {
		s.outsideTask("BlockTimeout")
		return false
	}
	if d <= 0 {
		return false
	}
	return !s.block(t, w, ready, true, s.now+d)
}

// outsideTask panics when a goroutine that is not a task calls op while
// tasks run: it would race with them.
func (s *Sim) outsideTask(op string) {
	if phase(s.phase.Load()) == phaseRunning && s.cur.Load() != nil {
		panic(fmt.Sprintf("sim: %s from a goroutine that is not a simulated task", op))
	}
}

// advanceClock moves the clock to the earliest deadline of a blocked task
// (the expiry of the next hrtimer); false when no task waits on the clock.
func (s *Sim) advanceClock() bool {
	found := false
	var earliest time.Duration
	for _, u := range s.alive {
		if u.blocked && u.timed && (!found || u.deadline < earliest) {
			earliest, found = u.deadline, true
		}
	}
	if !found {
		return false
	}
	if earliest > s.now {
		s.now = earliest
	}
	s.log.Emit(trace.Event{Kind: trace.Sched, Func: "hrtimer_interrupt", Msg: "clock advanced to " + s.now.String()})
	return true
}

package sim

import (
	"fmt"

	"github.com/drvsim/drvsim/sched"
)

var _ sched.Spawner = (*Sim)(nil)

// Spawn implements sched.Spawner: it starts fn as a task named name, like
// Go (kthread_run, or the kworker running an async_schedule'd function),
// when the caller may start one, and reports whether it did. It returns
// false when the run has ended, or when the caller is neither the running
// task nor the setup code (a goroutine that is no task): Go would panic
// there, and a component falls back to running fn some other way.
//
// If the run fails before the task first runs, fn is never called; abandon,
// when non-nil, is called instead at the end of Run, after the other tasks
// have unwound, with no task running (Current is ""), in the order the
// tasks were created. name must be a task name Go accepts; Spawn panics on
// any other.
func (s *Sim) Spawn(name string, fn func(), abandon func()) bool {
	if why := checkTaskName(name); why != "" {
		panic(fmt.Sprintf("sim: Spawn(%q): not a task name: %s", name, why))
	}
	switch phase(s.phase.Load()) {
	case phaseDone:
		return false
	case phaseSetup:
		if !s.inSetup() {
			return false
		}
	case phaseRunning:
		if s.self() == nil {
			return false
		}
	}
	s.spawn(name, fn, abandon)
	return true
}

// runAbandoned calls the abandon callbacks of tasks that never ran, in
// creation order, with no task running. A panic in one fails the run (if it
// has not failed already) and does not stop the others.
func (s *Sim) runAbandoned(ts []*task) {
	s.cur.Store(nil)
	for _, t := range ts {
		func() {
			defer func() {
				if r := recover(); r != nil {
					s.fail(panicReport("<abandon "+t.name+">", r))
				}
			}()
			t.abandon()
		}()
	}
}

package sim

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/drvsim/drvsim/internal/gid"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// task is one simulated task, the kernel's task_struct: a goroutine that
// runs only while it holds the Sim's token.
type task struct {
	name    string
	id      int
	fn      func()
	abandon func() // Spawn: called at the end of a failed run if fn never ran
	wake    chan struct{}
	gid     atomic.Uint64
	spawned bool // its goroutine exists
	done    bool

	// blocking state, valid while blocked
	blocked  bool
	wait     sched.Wait
	ready    func() bool
	timed    bool
	deadline time.Duration
	woke     bool // ready() held when the scheduler picked it
	timedOut bool

	prio int // PCT priority
}

// Go starts a simulated task named name running fn (kthread_run). Names are
// made unique by appending "#2", "#3", ... Tasks started during setup begin
// when Run starts the schedule; a task started by a running task is runnable
// at once, and the start is a schedule point. A panic in fn fails the run
// with a report naming the task.
func (s *Sim) Go(name string, fn func()) {
	switch phase(s.phase.Load()) {
	case phaseDone:
		panic(fmt.Sprintf("sim: Go(%q) after the run ended", name))
	case phaseRunning:
		if s.self() == nil {
			panic(fmt.Sprintf("sim: Go(%q) from a goroutine that is not a simulated task", name))
		}
	}
	s.spawn(name, fn, nil)
}

// spawn creates the task for Go and Spawn; the caller has checked that it
// may.
func (s *Sim) spawn(name string, fn, abandon func()) {
	if n := s.names[name]; n > 0 {
		s.names[name] = n + 1
		name = fmt.Sprintf("%s#%d", name, n+1)
	} else {
		s.names[name] = 1
	}
	t := &task{name: name, id: len(s.tasks), fn: fn, abandon: abandon, wake: make(chan struct{}, 1)}
	if s.cfg.Mode == PCT {
		t.prio = s.cfg.PCTDepth + s.rng.IntN(1<<30)
	}
	s.tasks = append(s.tasks, t)
	s.alive = append(s.alive, t)
	s.log.Emit(trace.Event{Kind: trace.Sched, Func: "wake_up_new_task", Msg: name})
	if s.self() != nil {
		s.Yield(sched.Point{Kind: "spawn", Obj: name})
	}
}

// resume hands the token to t, starting its goroutine on first use.
func (s *Sim) resume(t *task) {
	s.cur.Store(t)
	if !t.spawned {
		t.spawned = true
		go s.taskMain(t)
		return
	}
	t.wake <- struct{}{}
}

// park waits until the token comes back to t; a task resumed to unwind a
// failed run panics with the abort sentinel.
func (s *Sim) park(t *task) {
	<-t.wake
	if s.aborting {
		panic(errAbort)
	}
}

// switchTo passes the token from t to next (nil: the run is over and t
// unwinds) and returns when t runs again.
func (s *Sim) switchTo(t, next *task) {
	if next == t {
		return
	}
	if next == nil {
		panic(errAbort)
	}
	s.resume(next)
	s.park(t)
}

func (s *Sim) taskMain(t *task) {
	t.gid.Store(gid.Get())
	defer s.taskExit(t)
	t.fn()
}

// taskExit ends a task: a panic other than the abort sentinel fails the run;
// then the token passes on, or back to Run when the run is over.
func (s *Sim) taskExit(t *task) {
	if r := recover(); r != nil && r != errAbort && !s.aborting {
		rep := panicReport(t.name, r)
		rep.Step, rep.Seq = len(s.steps), s.log.Seq()+1
		s.fail(rep)
	}
	t.done = true
	t.blocked = false
	for i, u := range s.alive {
		if u == t {
			s.alive = append(s.alive[:i], s.alive[i+1:]...)
			break
		}
	}
	if s.aborting || s.failed.Load() {
		s.done <- struct{}{}
		return
	}
	s.log.Emit(trace.Event{Kind: trace.Sched, Func: "do_exit", Msg: t.name})
	next := s.pick(t, sched.Point{Kind: "exit"})
	if next == nil {
		s.done <- struct{}{}
		return
	}
	s.resume(next)
}

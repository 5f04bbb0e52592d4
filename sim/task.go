package sim

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// task is one simulated task, the kernel's task_struct. Its function runs
// on a coroutine (coroutine.go): it runs only when the Sim's driver resumes
// it, and gives control back at a schedule point (park) or when it ends.
type task struct {
	s       *Sim
	name    string
	id      int
	fn      func()
	abandon func() // Spawn: called at the end of a failed run if fn never ran

	co      *coroutine    // while it runs
	started bool          // it has had a coroutine
	gid     atomic.Uint64 // its coroutine's goroutine, set when it starts
	done    bool

	// lastPoint is the last schedule point the task reached (for reports of
	// a task stuck outside the scheduler).
	lastPoint sched.Point
	lastStep  int

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

// MaxTaskName bounds the length of a task name.
const MaxTaskName = 64

// checkTaskName returns why name cannot be a task name, "" when it can. A
// task name must survive FormatSchedule and ParseSchedule and a shell
// command line: not empty, at most MaxTaskName bytes, printable, without
// ',', '*', '\”, '#' (the Sim's own suffix for repeated names) or leading
// and trailing spaces.
func checkTaskName(name string) string {
	switch {
	case name == "":
		return "it is empty"
	case len(name) > MaxTaskName:
		return fmt.Sprintf("it is longer than %d bytes", MaxTaskName)
	case strings.TrimSpace(name) != name:
		return "it starts or ends with a space"
	case strings.ContainsAny(name, ",*'#"):
		return "it contains one of , * ' # (schedule syntax)"
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Sprintf("it contains the unprintable %q", r)
		}
	}
	return ""
}

// Go starts a simulated task named name running fn (kthread_run). Names are
// made unique by appending "#2", "#3", ... Tasks started during setup begin
// when Run starts the schedule; a task started by a running task is runnable
// at once, and the start is a schedule point. A panic in fn fails the run
// with a report naming the task.
//
// A name must be usable in a schedule (see FormatSchedule): not empty, at
// most MaxTaskName bytes, printable, without ',', '*', '\”, '#' or leading
// and trailing spaces. Go panics on any other name.
func (s *Sim) Go(name string, fn func()) {
	switch phase(s.phase.Load()) {
	case phaseDone:
		panic(fmt.Sprintf("sim: Go(%q) after the run ended", name))
	case phaseRunning:
		if s.self() == nil {
			panic(fmt.Sprintf("sim: Go(%q) from a goroutine that is not a simulated task", name))
		}
	}
	if why := checkTaskName(name); why != "" {
		panic(fmt.Sprintf("sim: Go(%q): not a task name: %s", name, why))
	}
	s.spawn(name, fn, nil)
}

// spawn creates the task for Go and Spawn; the caller has checked that it
// may.
func (s *Sim) spawn(name string, fn, abandon func()) {
	found := false
	for i := range s.names {
		if nc := &s.names[i]; nc.name == name {
			nc.n++
			name, found = name+"#"+strconv.Itoa(nc.n), true
			break
		}
	}
	if !found {
		s.names = append(s.names, nameCount{name, 1})
	}
	t := &task{s: s, name: name, id: len(s.tasks), fn: fn, abandon: abandon}
	if s.cfg.Mode == PCT {
		t.prio = s.cfg.PCTDepth + s.random().IntN(1<<30)
	}
	s.checkSpawn(t)
	s.sched.Lock()
	s.tasks = append(s.tasks, t)
	s.alive = append(s.alive, t)
	s.sched.Unlock()
	s.log.Emit(trace.Event{Kind: trace.Sched, Func: "wake_up_new_task", Msg: name})
	if s.self() != nil {
		s.Yield(sched.Point{Kind: "spawn", Obj: name})
	}
}

// run resumes t on its coroutine (starting it on first use) until it
// parks at a schedule point or ends. Only the driver calls it, and the
// watchdog when it unwinds the tasks of an abandoned run.
func (s *Sim) run(t *task) {
	s.cur.Store(t)
	if !t.started {
		t.started = true
		t.co = s.pool.get(s, t)
	}
	c := t.co
	if _, ok := c.resume(); ok && t.done {
		// Back to the pool only when the run ends: a later task of this
		// run must not get this one's goroutine, its identity (env.Self).
		t.co = nil
		s.ended = append(s.ended, c)
	}
}

// recycle returns the coroutines of the run's ended tasks to the pool.
func (s *Sim) recycle() {
	for _, c := range s.ended {
		s.pool.put(c)
	}
	s.ended = nil
}

// park gives control back to the driver, which resumes s.handoff, and
// returns when t runs again. A task resumed to unwind a failed run panics
// with the abort sentinel.
func (s *Sim) park(t *task) {
	t.co.yield(struct{}{})
	if s.aborting.Load() {
		panic(errAbort)
	}
}

// switchTo passes control from t to next (nil: the run is over and t
// unwinds) and returns when t runs again.
func (s *Sim) switchTo(t, next *task) {
	if next == t {
		return
	}
	if next == nil {
		panic(errAbort)
	}
	s.handoff = next
	s.park(t)
}

// taskMain runs a task's function. A panic other than the abort sentinel
// fails the run; so does runtime.Goexit (t.FailNow called from a task).
func (s *Sim) taskMain(t *task) {
	returned := false
	defer func() {
		r := recover()
		if !returned && r == nil && !s.aborting.Load() {
			rep := &Report{Kind: BugPanic, Title: "BUG: task " + t.name + " called runtime.Goexit", Task: t.name,
				Details: "runtime.Goexit ended the task: t.FailNow, t.Fatal, t.SkipNow or a require assertion\n" +
					"called from a task. Only the test's own goroutine may call them; the test is marked\n" +
					"failed, and the run stops here.\n"}
			rep.Step, rep.Seq = len(s.steps), s.log.Seq()+1
			s.fail(rep)
		}
		if r != nil && r != errAbort && !s.aborting.Load() {
			rep := panicReport(t.name, r)
			rep.Step, rep.Seq = len(s.steps), s.log.Seq()+1
			s.fail(rep)
		}
		s.taskExit(t)
	}()
	t.fn()
	returned = true
}

// taskExit ends a task: unless the run is being unwound, it leaves the
// alive list and the scheduler picks the next task (s.handoff, nil when
// the run is over).
func (s *Sim) taskExit(t *task) {
	t.done = true
	t.blocked = false
	s.progress.Add(1)
	if s.aborting.Load() {
		return // the unwinder owns the lists
	}
	s.handoff = nil
	s.sched.Lock()
	for i, u := range s.alive {
		if u == t {
			s.alive = append(s.alive[:i], s.alive[i+1:]...)
			break
		}
	}
	s.sched.Unlock()
	if s.failed.Load() {
		return
	}
	s.log.Emit(trace.Event{Kind: trace.Sched, Func: "do_exit", Msg: t.name})
	s.handoff = s.pick(t, sched.Point{Kind: "exit"})
}

package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Yield is a schedule point (the kernel's preemption points, cond_resched):
// the scheduler may switch to another runnable task here. It does nothing
// when the caller is not the running task (setup code, no run).
func (s *Sim) Yield(p sched.Point) {
	t := s.self()
	if t == nil {
		return
	}
	s.switchTo(t, s.pick(t, p))
}

// CondResched is an explicit schedule point for tests and toy drivers,
// modelled on cond_resched(): Yield(sched.Point{Kind: "cond_resched", Obj: what}).
func (s *Sim) CondResched(what string) {
	s.Yield(sched.Point{Kind: "cond_resched", Obj: what})
}

// Block parks the calling task until ready() returns true, as a task
// sleeping in wait_event would. ready is evaluated by the scheduler while no
// task runs. If ready() already holds, Block returns at once without a
// schedule point. When every unfinished task is blocked (and none waits on
// the clock) the run fails with a deadlock report built from the Waits.
//
// Called outside a simulated task, Block returns if ready() holds and
// panics otherwise: nothing could ever make it true.
func (s *Sim) Block(w sched.Wait, ready func() bool) {
	if ready() {
		return
	}
	t := s.self()
	if t == nil {
		panic(fmt.Sprintf("sim: Block(%q) outside a simulated task: the condition is false and nothing can make it true", w.What))
	}
	s.block(t, w, ready, false, 0)
}

// block parks t on ready (nil: never ready), with an optional deadline on
// the virtual clock, and reports whether it woke by timeout.
func (s *Sim) block(t *task, w sched.Wait, ready func() bool, timed bool, deadline time.Duration) (timedOut bool) {
	t.blocked, t.wait, t.ready, t.timed, t.deadline = true, w, ready, timed, deadline
	s.switchTo(t, s.pick(t, sched.Point{Kind: "block", Obj: w.What}))
	timedOut = t.timedOut
	t.wait, t.ready, t.timed, t.timedOut = sched.Wait{}, nil, false, false
	return timedOut
}

// collect fills s.runnable with the tasks that can run, in creation order,
// and returns them with the set as a bit mask of task ids (a hash of them
// past 64 tasks), which a re-run must reproduce.
func (s *Sim) collect() ([]*task, uint64) {
	r := s.runnable[:0]
	var set uint64
	for _, u := range s.alive {
		if u.blocked {
			u.woke = u.ready != nil && u.ready()
			if !u.woke && !(u.timed && s.now >= u.deadline) {
				continue
			}
		}
		r = append(r, u)
		set = addToSet(set, u.id)
	}
	s.runnable = r
	return r, set
}

// addToSet adds task id to an enabled set: a bit per task for the first
// 64 tasks, an FNV-style mix beyond.
func addToSet(set uint64, id int) uint64 {
	if id < 64 {
		return set | 1<<uint(id)
	}
	return (set ^ uint64(id)) * 1099511628211
}

// pick is the scheduler proper (__schedule): called by the task t (nil for
// the start of the run) at point p, it chooses the next task and records the
// step. It returns nil when the run is over: every task has finished, or the
// run failed (step bound, deadlock, nondeterminism, an earlier failure).
func (s *Sim) pick(t *task, p sched.Point) *task {
	s.progress.Add(1)
	s.sched.Lock()
	defer s.sched.Unlock()
	if s.failed.Load() || s.abandoned.Load() {
		return nil
	}
	step := Step{N: len(s.steps) + 1, Point: p}
	if t != nil {
		step.Task = t.name
		step.taskID = int32(t.id)
		t.lastPoint, t.lastStep = p, step.N
	} else {
		step.taskID = -1
	}
	if step.N > s.cfg.MaxSteps {
		s.steps = append(s.steps, step)
		s.fail(s.stepBoundReport(step))
		return nil
	}
	runnable, set := s.collect()
	for len(runnable) == 0 {
		if len(s.alive) == 0 {
			if t != nil {
				s.steps = append(s.steps, step)
			}
			return nil
		}
		if !s.advanceClock() {
			s.steps = append(s.steps, step)
			s.fail(s.deadlockReport(step))
			return nil
		}
		runnable, set = s.collect()
	}
	cur := -1
	for i, u := range runnable {
		if u == t {
			cur = i
			break
		}
	}
	step.Runnable = len(runnable)
	step.enabled = set
	step.curRunnable = cur >= 0
	step.pre = s.preemptions
	if !s.checkStep(&step) {
		s.steps = append(s.steps, step)
		return nil
	}
	idx, ok := s.choose(t, runnable, cur, &step)
	if !ok {
		s.steps = append(s.steps, step)
		return nil
	}
	next := runnable[idx]
	step.alt = idxToAlt(idx, cur)
	step.Next = next.name
	if cur >= 0 && idx != cur {
		step.Preempt = true
		s.preemptions++
	}
	s.choices++
	s.hash = (s.hash ^ uint64(next.id+1)) * 1099511628211
	s.steps = append(s.steps, step)
	if next.blocked {
		next.blocked = false
		next.timedOut = !next.woke
	}
	if next != t {
		s.log.Emit(trace.Event{Kind: trace.Sched, Func: "schedule", Msg: p.String() + " -> " + next.name})
	}
	return next
}

// The alternatives at a step are numbered so that 0 is the default choice:
// the current task when it can run, then the others in creation order.
func altToIdx(alt, cur int) int {
	switch {
	case cur < 0:
		return alt
	case alt == 0:
		return cur
	case alt-1 >= cur:
		return alt
	}
	return alt - 1
}

func idxToAlt(idx, cur int) int {
	switch {
	case cur < 0:
		return idx
	case idx == cur:
		return 0
	case idx < cur:
		return idx + 1
	}
	return idx
}

// choose applies the strategy: a forced prefix (exhaustive search), a
// replayed schedule, PCT priorities or the seeded PRNG. ok is false when a
// replay diverged (the run has failed).
func (s *Sim) choose(t *task, runnable []*task, cur int, step *Step) (idx int, ok bool) {
	n := len(runnable)
	d := step.N - 1
	switch {
	case s.cfg.Replay != nil:
		if d < len(s.cfg.Replay) {
			want := s.cfg.Replay[d]
			for i, u := range runnable {
				if u.name == want {
					return i, true
				}
			}
			s.fail(s.divergeReport(*step, want, runnable))
			return 0, false
		}
		return altToIdx(0, cur), true
	case s.cfg.prefix != nil || s.cfg.Mode == Exhaustive:
		alt := 0
		if d < len(s.cfg.prefix) {
			alt = s.cfg.prefix[d]
		}
		if alt >= n {
			// checkStep compares the step with the run the prefix comes
			// from; a prefix without one (a bad shard or unit) lands here.
			s.fail(s.nondeterminismReport(step, fmt.Sprintf("the search asks for alternative %d of %d", alt, n)))
			return 0, false
		}
		return altToIdx(alt, cur), true
	case s.cfg.Mode == PCT:
		for i, c := range s.change {
			if c == step.N && t != nil && !t.done {
				t.prio = len(s.change) - i
			}
		}
		best := 0
		for i, u := range runnable {
			if u.prio > runnable[best].prio {
				best = i
			}
		}
		return best, true
	}
	if n == 1 {
		return 0, true
	}
	return s.random().IntN(n), true
}

func (s *Sim) stepBoundReport(step Step) *Report {
	var b strings.Builder
	fmt.Fprintf(&b, "the run reached %d schedule points (Config.MaxSteps) without finishing:\n", s.cfg.MaxSteps)
	fmt.Fprintf(&b, "a livelock, or a task that never stops. Last point: %s in task %s.\n", step.Point, orSetup(step.Task))
	b.WriteString("Unfinished tasks:\n")
	for _, u := range s.alive {
		fmt.Fprintf(&b, "  %s%s\n", u.name, u.state())
	}
	return &Report{Kind: BugStepBound, Title: "BUG: livelock: step bound reached", Task: step.Task,
		Details: b.String(), Step: step.N, Seq: s.log.Seq() + 1}
}

// divergeReport describes a replayed schedule that asks for a task that
// cannot run: "replay diverged at step N: wanted X, enabled {a, b}".
func (s *Sim) divergeReport(step Step, want string, runnable []*task) *Report {
	names := make([]string, len(runnable))
	for i, u := range runnable {
		names[i] = u.name
	}
	known := false
	for _, u := range s.tasks {
		if u.name == want {
			known = true
			break
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "at step %d (%s in %s) the schedule asks for task %s, but the runnable tasks are: %s.\n",
		step.N, step.Point, orSetup(step.Task), want, strings.Join(names, ", "))
	if !known {
		all := make([]string, len(s.tasks))
		for i, u := range s.tasks {
			all[i] = u.name
		}
		fmt.Fprintf(&b, "No task named %s exists in this run (its tasks so far: %s).\n", want, strings.Join(all, ", "))
	}
	b.WriteString("The schedule does not fit this scenario: it was recorded on another scenario or an earlier\nversion of it. Nothing was found; there is nothing to replay.\n")
	r := &Report{Kind: BugReplay, Title: fmt.Sprintf("replay diverged at step %d: wanted %s, enabled {%s}", step.N, want, strings.Join(names, ", ")),
		Task: step.Task, Details: b.String(), Step: step.N, Seq: s.log.Seq() + 1}
	if !known {
		s.unknownTask = want
	}
	return r
}

// state describes what an unfinished task is doing, for reports.
func (t *task) state() string {
	switch {
	case t.blocked && t.timed && t.ready == nil:
		return fmt.Sprintf(" (sleeping until %v)", t.deadline)
	case t.blocked:
		h := ""
		if t.wait.Holder != nil {
			h = t.wait.Holder()
		}
		if h != "" {
			return fmt.Sprintf(" (blocked on %s, held by %s)", t.wait.What, h)
		}
		return fmt.Sprintf(" (blocked on %s)", t.wait.What)
	}
	return " (runnable)"
}

func orSetup(name string) string { return env.OrSetup(name) }

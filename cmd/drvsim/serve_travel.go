package main

// Time travel: one run of a registered scenario, made ready to step
// forward and back through in the page. At each step of the schedule the
// page shows the device tree, every task's state and the memory checker's
// objects as they were, and the failure report at the step it happened.
//
// This is an adapter over what a sim.Result already gives, so that it
// keeps working while the simulator changes. It relies on:
//
//   - Result.Steps: Task (who reached the schedule point), Point (its
//     Kind: "start", "block" with the wait in Obj, "exit", or another
//     point) and Next (who runs next, "" when the run ended there);
//   - Result.Events, numbered from 1 by Seq, each with its Task;
//   - Result.Failure: Kind, Title, Task, Details, Step (the steps taken
//     when it happened) and Seq (its event);
//   - Result.Schedule, Seed, Mode, Replayed (for the replay command);
//   - sim.Config{Seed, Replay, MaxSteps}: replaying the schedule with
//     MaxSteps k fails at step k+1 with a BugStepBound report whose Seq
//     is one past the last event before that step. That is how a step's
//     events are found: a Step has no sequence number of its own.

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// maxTravelSteps bounds the steps of a run the page steps through: each
// step costs a replay of the run up to it.
const maxTravelSteps = 2000

// travel is one run ready to step through.
type travel struct {
	sc  sim.Scenario
	res *sim.Result
	// how the run was found, e.g. "the failing schedule of an exhaustive
	// exploration (195 schedules)".
	how string
	// ends[k] is the Seq of the last event of step k (ends[0]: of the
	// set-up, before the first step); ends[len(Steps)] is the last event.
	ends []uint64
}

// errNotReplayable is a run whose replay does not give the same trace:
// the scenario is not deterministic apart from its schedule.
var errNotReplayable = errors.New("the run does not replay the same way")

// newTravel prepares res, a run of scenario sc, for stepping: it finds
// where each step's events end by replaying the run up to that step.
func newTravel(sc sim.Scenario, res *sim.Result, how string) (*travel, error) {
	n := len(res.Steps)
	if n == 0 {
		return nil, fmt.Errorf("the run of %s took no step: nothing to step through", sc.Name)
	}
	if n > maxTravelSteps {
		return nil, fmt.Errorf("the run of %s took %d steps, more than the %d time travel steps through", sc.Name, n, maxTravelSteps)
	}
	for i, e := range res.Events {
		if e.Seq != uint64(i+1) {
			return nil, fmt.Errorf("the run's trace does not start at event 1 or has gaps (event %d has seq %d)", i+1, e.Seq)
		}
	}
	t := &travel{sc: sc, res: res, how: how, ends: make([]uint64, n+1)}
	t.ends[n] = uint64(len(res.Events))
	start, err := t.startSeq()
	if err != nil {
		return nil, err
	}
	t.ends[0] = start - 1
	for k := 1; k < n; k++ {
		end, err := t.replayTo(k)
		if err != nil {
			return nil, err
		}
		if end < t.ends[k-1] || end > t.ends[n] {
			return nil, fmt.Errorf("%w: step %d ends at event %d, outside %d..%d", errNotReplayable, k, end, t.ends[k-1], t.ends[n])
		}
		t.ends[k] = end
	}
	return t, nil
}

// startSeq returns the Seq of the first step's event: the first step is
// the start of the run, which always hands the CPU to a task ("schedule:
// start -> T").
func (t *travel) startSeq() (uint64, error) {
	st := t.res.Steps[0]
	want := st.Point.String() + " -> " + st.Next
	for _, e := range t.res.Events {
		if e.Kind == trace.Sched && e.Func == "schedule" {
			if st.Task != "" || e.Msg != want {
				break
			}
			return e.Seq, nil
		}
	}
	return 0, fmt.Errorf("the run's first step (%s) has no %q event in the trace", st, want)
}

// replayTo replays the run's schedule for k steps and returns the Seq of
// the last event before step k+1. The replay's trace up to there must be
// the run's.
func (t *travel) replayTo(k int) (uint64, error) {
	setup := t.sc.New()
	if setup.Close != nil {
		defer setup.Close()
	}
	r := sim.Run(sim.Config{Seed: t.res.Seed, Replay: t.res.Schedule(), MaxSteps: k}, setup.Run)
	f := r.Failure
	if f == nil || f.Kind != sim.BugStepBound || f.Step != k+1 {
		got := "it passed"
		if f != nil {
			got = fmt.Sprintf("%s at step %d", f.Title, f.Step)
		}
		return 0, fmt.Errorf("%w: replayed for %d steps, %s", errNotReplayable, k, got)
	}
	end := f.Seq - 1
	if end > uint64(len(r.Events)) || end > uint64(len(t.res.Events)) {
		return 0, fmt.Errorf("%w: replayed for %d steps, the trace ends at event %d", errNotReplayable, k, end)
	}
	for i := range end {
		if r.Events[i] != t.res.Events[i] {
			return 0, fmt.Errorf("%w: replayed for %d steps, event %d is %q, was %q", errNotReplayable, k, i+1, r.Events[i], t.res.Events[i])
		}
	}
	return end, nil
}

// steps returns the number of steps of the run.
func (t *travel) steps() int { return len(t.res.Steps) }

// stepOf returns the step whose events include seq (0: the set-up).
func (t *travel) stepOf(seq uint64) int {
	for k, end := range t.ends {
		if seq <= end {
			return k
		}
	}
	return len(t.ends) - 1
}

// replay returns the drvsim command that replays the run.
func (t *travel) replay() string { return replayCommand(t.sc.Name, t.res) }

// stepView is what the page shows at one step: the step, the events it
// covers, and the machine after them.
type stepView struct {
	// N is the step (0: the set-up, before any task ran), of Steps.
	N     int `json:"n"`
	Steps int `json:"steps"`
	// Line is the step as the schedule prints it ("6 reader block
	// usb_start_wait_urb urb 1 ep81 -> hardware"); empty for step 0.
	Line    string `json:"line"`
	Task    string `json:"task"`
	Point   string `json:"point"`
	Next    string `json:"next"`
	Preempt bool   `json:"preempt,omitempty"`
	// From and To bound the step's events: From < Seq <= To.
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
	// Failed is true at the step in which the run failed.
	Failed bool       `json:"failed"`
	Tree   treeView   `json:"tree"`
	Tasks  []taskView `json:"tasks"`
	Memory memView    `json:"memory"`
}

// taskView is a task's state after a step's events.
type taskView struct {
	Name string `json:"name"`
	// State is "running", "runnable", "blocked", "exited", "failed" or
	// "not started"; Detail says where or on what.
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
}

// memView is the memory checker's view: every object allocated so far,
// live or freed.
type memView struct {
	Objects []memObject `json:"objects"`
	Live    int         `json:"live"`
	Freed   int         `json:"freed"`
}

// memObject is one allocation.
type memObject struct {
	ID        int    `json:"id"`
	Name      string `json:"name"`
	Alloc     uint64 `json:"alloc"`
	AllocTask string `json:"allocTask,omitempty"`
	Free      uint64 `json:"free,omitempty"`
	FreeTask  string `json:"freeTask,omitempty"`
	// Reported is true for the object the failure report names.
	Reported bool `json:"reported,omitempty"`
}

// view returns the page's view at step k, 0 <= k <= steps().
func (t *travel) view(k int) stepView {
	v := stepView{N: k, Steps: t.steps(), To: t.ends[k]}
	if k > 0 {
		st := t.res.Steps[k-1]
		v.Line = strings.TrimSpace(st.String())
		v.Task, v.Point, v.Next, v.Preempt = st.Task, st.Point.String(), st.Next, st.Preempt
		v.From = t.ends[k-1]
	}
	f := t.res.Failure
	v.Failed = f != nil && k == t.failureStep()
	tree := newTraceTree()
	for _, e := range t.res.Events[:v.To] {
		tree.add(e)
	}
	v.Tree = tree.view()
	v.Tasks = t.tasks(k)
	v.Memory = memoryView(t.res.Events[:v.To], f)
	return v
}

// failureStep returns the step in which the run failed: the step whose
// events hold the report's event (the report counts the steps taken so
// far), or -1 for a run that passed.
func (t *travel) failureStep() int {
	f := t.res.Failure
	if f == nil {
		return -1
	}
	if f.Seq > 0 {
		return t.stepOf(f.Seq)
	}
	if f.Step > 0 {
		return min(f.Step, t.steps())
	}
	return t.steps() // a report without either: the run ended with it

}

// tasks returns every task's state after step k's events, from the
// schedule: the task chosen last runs (and has reached the next step's
// point), a task that gave up the CPU at a "block" point sleeps on what
// it named, at "exit" it is gone, at any other point it was preempted.
func (t *travel) tasks(k int) []taskView {
	var order []string
	state := map[string]taskView{}
	see := func(name string) {
		if _, ok := state[name]; !ok && name != "" {
			order = append(order, name)
			state[name] = taskView{Name: name, State: "not started"}
		}
	}
	// Tasks in order of creation (wake_up_new_task), those of the
	// schedule after them.
	for _, e := range t.res.Events[:t.ends[k]] {
		if e.Kind == trace.Sched && e.Func == "wake_up_new_task" {
			see(e.Msg)
		}
	}
	for _, st := range t.res.Steps[:k] {
		see(st.Task)
		see(st.Next)
		if st.Task != "" && st.Task != st.Next {
			tv := state[st.Task]
			switch st.Point.Kind {
			case "exit":
				tv.State, tv.Detail = "exited", ""
			case "block":
				tv.State, tv.Detail = "blocked", "on "+st.Point.Obj
			default:
				tv.State, tv.Detail = "runnable", "preempted at "+st.Point.String()
			}
			state[st.Task] = tv
		}
		if st.Next != "" {
			state[st.Next] = taskView{Name: st.Next, State: "running"}
		}
	}
	if k < t.steps() {
		// The running task has reached the next step's point.
		if next := t.res.Steps[k]; next.Task != "" {
			tv := state[next.Task]
			tv.Detail = "at " + next.Point.String()
			state[next.Task] = tv
		}
	}
	if f := t.res.Failure; f != nil && k >= t.failureStep() && f.Task != "" {
		state[f.Task] = taskView{Name: f.Task, State: "failed", Detail: f.Title}
	}
	out := make([]taskView, 0, len(order))
	for _, n := range order {
		out = append(out, state[n])
	}
	return out
}

// objectRe matches the label env.Memory gives an object in its kmalloc
// and kfree events and its reports: "bulk_in_buffer (object #2)".
var objectRe = regexp.MustCompile(`^(.*) \(object #([0-9]+)\)$`)

// memoryView replays the kmalloc and kfree events of events; the object
// the failure report names is marked.
func memoryView(events []trace.Event, f *env.Report) memView {
	v := memView{Objects: []memObject{}}
	index := map[int]int{}
	for _, e := range events {
		if e.Kind != env.Mem {
			continue
		}
		m := objectRe.FindStringSubmatch(e.Msg)
		if m == nil {
			continue
		}
		id, _ := strconv.Atoi(m[2])
		switch e.Func {
		case "kmalloc":
			index[id] = len(v.Objects)
			v.Objects = append(v.Objects, memObject{ID: id, Name: m[1], Alloc: e.Seq, AllocTask: e.Task})
			v.Live++
		case "kfree":
			if i, ok := index[id]; ok && v.Objects[i].Free == 0 {
				v.Objects[i].Free, v.Objects[i].FreeTask = e.Seq, e.Task
				v.Live--
				v.Freed++
			}
		}
	}
	if f != nil {
		for i := range v.Objects {
			o := &v.Objects[i]
			o.Reported = strings.Contains(f.Details, fmt.Sprintf("%s (object #%d)", o.Name, o.ID))
		}
	}
	return v
}

// reportSeqRe matches a line of a report naming a trace event: "Freed by
// task unplug at trace seq 124:".
var reportSeqRe = regexp.MustCompile(`(?m)^(.*?) by task (\S+) at trace seq ([0-9]+):$`)

// failureView is the run's failure report, with the steps of the events
// it names.
type failureView struct {
	Kind  string `json:"kind"`
	Title string `json:"title"`
	Task  string `json:"task,omitempty"`
	// Text is the report as the kernel prints it.
	Text string `json:"text"`
	Step int    `json:"step"`
	Seq  uint64 `json:"seq"`
	// Marks are the events the report names (the access, the
	// allocation, the free), each with its step.
	Marks []failureMark `json:"marks"`
}

// failureMark is an event a report names.
type failureMark struct {
	What string `json:"what"`
	Task string `json:"task"`
	Seq  uint64 `json:"seq"`
	Step int    `json:"step"`
}

// failure returns the report of a failed run, nil for a run that passed.
func (t *travel) failure() *failureView {
	f := t.res.Failure
	if f == nil {
		return nil
	}
	fv := &failureView{Kind: string(f.Kind), Title: f.Title, Task: f.Task, Text: f.String(),
		Step: t.failureStep(), Seq: f.Seq, Marks: []failureMark{}}
	for _, m := range reportSeqRe.FindAllStringSubmatch(f.Details, -1) {
		seq, err := strconv.ParseUint(m[3], 10, 64)
		if err != nil || seq == 0 || seq > uint64(len(t.res.Events)) {
			continue
		}
		fv.Marks = append(fv.Marks, failureMark{What: m[1], Task: m[2], Seq: seq, Step: t.stepOf(seq)})
	}
	return fv
}

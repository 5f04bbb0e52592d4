package zoo

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
	"github.com/drvsim/drvsim/zoo/rpmsuppliers"
)

// Hunt is what exploring a bug's scenario pair with their defaults showed.
type Hunt struct {
	Bug *Bug
	// Found is the "before" exploration; its failure is the first failing
	// schedule the search met.
	Found *sim.ScenarioResult
	// Minimal is the failing run with the fewest preemptions the
	// explorer's minimization found (sim.ExploreResult.Minimal,
	// MinimalProven), or the failure itself.
	Minimal *sim.Result
	// Fixed is the "after" exploration.
	Fixed *sim.ScenarioResult
	// FoundIn and FixedIn are the wall-clock times of the explorations.
	FoundIn, FixedIn time.Duration
}

// ErrNotReproduced is Hunt's error for a bug without its scenario pair.
var ErrNotReproduced = errors.New("zoo: bug not reproduced")

// Hunt explores the bug's "before" scenario with its defaults (the
// explorer minimizes the failure it finds), then its "after" scenario with its defaults. The
// error says how an outcome differs from its prediction (the Hunt is
// returned all the same), or that the bug is not reproduced.
func (b *Bug) Hunt() (*Hunt, error) {
	if !b.Reproduced() {
		return nil, fmt.Errorf("%s: %w: %s", b.Name, ErrNotReproduced, b.Pending)
	}
	h := &Hunt{Bug: b}
	cfg := b.Before.Config()
	cfg.Config.Pkg = "./zoo"
	t0 := time.Now()
	h.Found = b.Before.Explore(cfg)
	h.FoundIn = time.Since(t0)
	if h.Found.Failure != nil {
		h.Minimal = h.Found.Reported()
	}
	t0 = time.Now()
	h.Fixed = b.After.Explore(b.After.Config())
	h.FixedIn = time.Since(t0)
	var errs []error
	if err := b.Before.Check(h.Found); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", b.Before.Name, err))
	}
	if err := b.After.Check(h.Fixed); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", b.After.Name, err))
	} else if !h.Fixed.Exhausted {
		errs = append(errs, fmt.Errorf("%s: the search was not exhausted within %d schedules", b.After.Name, b.After.Defaults.Schedules))
	}
	return h, errors.Join(errs...)
}

// Replay returns the drvsim command that replays the minimal failing run.
func (h *Hunt) Replay() string {
	if h.Minimal == nil {
		return ""
	}
	return fmt.Sprintf("drvsim explore -schedule '%s' %s", sim.FormatSchedule(h.Minimal.Schedule()), h.Bug.Before.Name)
}

// Symptom names the failure the hunt found in a few words, as a table
// shows it: "use-after-free in key_up_tick", "NULL dereference in task
// hardirq/16", "hang: 1 task blocked forever", "supplier suspended under
// active consumer".
func (h *Hunt) Symptom() string {
	if h.Minimal == nil {
		return "no failure"
	}
	r := h.Minimal.Failure
	title := strings.TrimPrefix(strings.TrimPrefix(r.Title, "BUG: "), "KASAN: ")
	switch r.Kind {
	case sim.BugUseAfterFree, sim.BugDoubleFree:
		if i := strings.Index(title, ": "); i >= 0 {
			title = title[:i]
		}
		return title
	case sim.BugPanic:
		what := "oops"
		if strings.Contains(r.Title, "nil pointer dereference") {
			what = "NULL dereference"
		}
		return fmt.Sprintf("%s in task %s", what, r.Task)
	case sim.BugDeadlock:
		return "hang: " + strings.TrimPrefix(title, "deadlock: ")
	case rpmsuppliers.BugSuspendedSupplier:
		return "supplier suspended under active consumer"
	}
	return title
}

// storyEvents is how many trace events the story quotes before the
// failure.
const storyEvents = 30

// Story narrates the hunt, as `drvsim zoo NAME` prints it: the fix
// commit, the original report, the race, the failing schedule the
// explorer found (the report, the schedule and the end of the trace of
// the minimal run, and the command that replays it), the fix and the
// fixed driver's exploration. It is deterministic: no timings.
func (h *Hunt) Story() string {
	b := h.Bug
	var s strings.Builder
	section := func(title string) { fmt.Fprintf(&s, "\n== %s\n", title) }
	fmt.Fprintf(&s, "== %s (%s)\n", b.Name, b.Subsystem)
	fmt.Fprintf(&s, "fix: %s\n     %q (%s)\n", b.Commit, b.Subject, b.Author)
	section("the report")
	s.WriteString(Wrap(b.Report, 76))
	section("the race")
	s.WriteString(Wrap(b.Race, 76))
	section("the bug found: " + b.Before.Name)
	lines := strings.SplitN(h.Found.String(), "\n", 3)
	s.WriteString(lines[0] + "\n")
	if len(lines) > 1 && strings.HasPrefix(lines[1], "minimal:") {
		s.WriteString(lines[1] + "\n") // how few preemptions the failure needs
	}
	if r := h.Minimal; r != nil {
		fmt.Fprintf(&s, "the minimal failing schedule: %d steps, %d preemption(s)\n", len(r.Steps), r.Preemptions)
		s.WriteString(r.Failure.String())
		s.WriteString("schedule:\n")
		s.WriteString(r.ScheduleText())
		ev := r.Events
		fmt.Fprintf(&s, "trace (last %d of %d events):\n", min(len(ev), storyEvents), len(ev))
		s.WriteString(trace.Text(ev[max(0, len(ev)-storyEvents):]))
		s.WriteString("replay: " + h.Replay() + "\n")
	}
	section("the fix")
	s.WriteString(Wrap(b.Fix, 76))
	if b.Notes != "" {
		section("the model")
		s.WriteString(Wrap(b.Notes, 76))
	}
	section("the fixed driver: " + b.After.Name)
	first, _, _ := strings.Cut(h.Fixed.String(), "\n")
	s.WriteString(first + "\n")
	return s.String()
}

// Wrap breaks text into lines of at most width columns at spaces (a word
// longer than width gets a line of its own), each ended by a newline.
func Wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(text) {
		switch {
		case n == 0:
		case n+1+len(w) > width:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	if n > 0 {
		b.WriteByte('\n')
	}
	return b.String()
}

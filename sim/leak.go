package sim

import (
	"fmt"
	"strings"
)

// leakCheck is one registered end-of-run check.
type leakCheck struct {
	name string
	fn   func() []string
}

// AddLeakCheck registers a check run when a run ends without failure, in
// registration order, after the built-in checks. fn returns one
// description per leaked thing (devres actions never released, provider
// handles never closed, references never put); any description fails the
// run with a leak report, as kmemleak or the driver core's "resources
// present before probing" warning would. name prefixes its lines.
func (s *Sim) AddLeakCheck(name string, fn func() []string) {
	s.mu.Lock()
	s.leaks = append(s.leaks, leakCheck{name: name, fn: fn})
	s.mu.Unlock()
}

// checkLeaks runs at the end of a successful run, with no task running.
func (s *Sim) checkLeaks() {
	checks := []leakCheck{}
	if !s.cfg.NoMemoryLeakCheck {
		checks = append(checks, leakCheck{name: "memory", fn: s.env.Memory().Leaks})
	}
	s.mu.Lock()
	checks = append(checks, s.leaks...)
	s.mu.Unlock()
	var lines []string
	for _, c := range checks {
		for _, l := range c.fn() {
			lines = append(lines, c.name+": "+strings.ReplaceAll(l, "\n", "\n  "))
		}
	}
	if len(lines) == 0 {
		return
	}
	s.fail(&Report{
		Kind:    BugLeak,
		Title:   fmt.Sprintf("BUG: leak: %d leaked at the end of the run", len(lines)),
		Details: strings.Join(lines, "\n") + "\n",
		Step:    len(s.steps),
		Seq:     s.log.Seq() + 1,
	})
}

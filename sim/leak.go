package sim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/drvsim/drvsim/env"
)

// AddLeakCheck registers a check run when a run ends without failure, in
// registration order with the checks the components registered with the
// run's environment (env.Env.AddLeakCheck: devres actions on an unbound
// device, device references, consumers of a revoked provider, URBs left
// in flight), after the built-in memory check. fn returns one description
// per leaked thing; any description fails the run with a leak report, as
// kmemleak or the driver core's "resources present before probing"
// warning would. name prefixes its lines; Config.NoLeakChecks turns off
// the checks of a name.
func (s *Sim) AddLeakCheck(name string, fn func() []string) { s.env.AddLeakCheck(name, fn) }

// checkLeaks runs at the end of a successful run, with no task running.
func (s *Sim) checkLeaks() {
	var checks []env.LeakCheck
	if !s.cfg.NoMemoryLeakCheck {
		checks = append(checks, env.LeakCheck{Name: env.LeakMemory, Check: s.env.Memory().Leaks})
	}
	checks = append(checks, s.env.LeakChecks()...)
	var lines []string
	for _, c := range checks {
		if slices.Contains(s.cfg.NoLeakChecks, c.Name) {
			continue
		}
		for _, l := range c.Check() {
			lines = append(lines, c.Name+": "+strings.ReplaceAll(l, "\n", "\n  "))
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

package kernelmodel

import "github.com/drvsim/drvsim/sim"

// Design names the revocable design a scenario runs on.
type Design string

// The three designs of the design lab.
const (
	V3     Design = "v3"     // the seed, package v3
	Merged Design = "merged" // the merged-then-reverted form, package merged
	Drvsim Design = "drvsim" // drvsim's own package revocable
)

// Scenario is one runnable experiment of the design lab: a function that
// builds a fresh system on the Sim it is given and starts its tasks (it
// runs once per explored schedule), with what it shows.
type Scenario struct {
	// Name is the registry key, e.g. "merged-copied-provider"; the command
	// line runs it as "drvsim explore NAME".
	Name string
	// Design is the design under test.
	Design Design
	// Description says in one or two sentences what the scenario does and
	// what exploring it shows.
	Description string
	// Want is the kind of bug exploration is expected to find; "" when no
	// schedule may fail (drvsim's own design).
	Want sim.BugKind
	// Run sets the scenario up on s: sim.Run(cfg, sc.Run) or
	// sim.Explore(cfg, sc.Run).
	Run func(s *sim.Sim)
}

// Scenarios returns the registry, in a fixed order: each flaw on the
// kernel design that had it, then the same experiment on drvsim's design.
func Scenarios() []Scenario {
	return []Scenario{
		{
			Name:   "v3-shared-handle",
			Design: V3,
			Description: "Two tasks share one v3 struct revocable and read through it; a third revokes " +
				"(revocable_provider_free). One task's srcu_read_unlock uses the index the other stored, " +
				"and synchronize_srcu never completes: a hung task.",
			Want: sim.BugDeadlock,
			Run:  V3SharedHandle,
		},
		{
			Name:   "merged-shared-handle",
			Design: Merged,
			Description: "Two tasks share one merged struct revocable (set up once by revocable_init) and read " +
				"through it; a third calls revocable_provider_revoke. The shared rev->idx sends one " +
				"srcu_read_unlock to the wrong index and the revoke hangs.",
			Want: sim.BugDeadlock,
			Run:  MergedSharedHandle,
		},
		{
			Name:   "merged-copied-provider",
			Design: Merged,
			Description: "open() copies the __rcu provider pointer into the file's private data; unbind revokes " +
				"the provider, which is freed by kfree_rcu; the file's next read runs revocable_init on the " +
				"stale copy and kref_get_unless_zero reads the freed provider: a use-after-free.",
			Want: sim.BugUseAfterFree,
			Run:  MergedCopiedProvider,
		},
		{
			Name:   "drvsim-shared-handle",
			Design: Drvsim,
			Description: "The shared-handle experiment on drvsim's revocable: two tasks share one Consumer, a " +
				"third revokes. Each Access carries its own index, so every schedule completes.",
			Run: DrvsimSharedHandle,
		},
		{
			Name:   "drvsim-copied-provider",
			Design: Drvsim,
			Description: "The copied-pointer experiment on drvsim's revocable: the file's private data holds the " +
				"*Provider; after Revoke, New on it fails with ErrRevoked, and the provider, refcounted, " +
				"is released only when its last reference goes. Every schedule completes.",
			Run: DrvsimCopiedProvider,
		},
	}
}

// Lookup returns the scenario named name.
func Lookup(name string) (Scenario, bool) {
	for _, sc := range Scenarios() {
		if sc.Name == name {
			return sc, true
		}
	}
	return Scenario{}, false
}

// Names returns the registered scenario names, in registry order.
func Names() []string {
	var out []string
	for _, sc := range Scenarios() {
		out = append(out, sc.Name)
	}
	return out
}

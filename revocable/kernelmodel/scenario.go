package kernelmodel

import "github.com/drvsim/drvsim/sim"

// labSchedules is the default schedule budget of the design lab's
// scenarios; every one of them ends (a failure found, or the space
// exhausted) well within it.
const labSchedules = 20000

// scenario declares one experiment of the design lab on design ("v3",
// "merged" or "drvsim"), explored exhaustively by default.
func scenario(name, design, about string, want sim.BugKind, run func(*sim.Sim)) sim.Scenario {
	return sim.Scenario{
		Name:        name,
		Under:       design + " design",
		Description: about,
		Want:        sim.Prediction{Bug: want},
		Defaults:    sim.Settings{Mode: sim.Exhaustive, Schedules: labSchedules},
		New:         func() sim.Setup { return sim.Setup{Run: run} },
	}
}

// Scenarios returns the design lab's experiments, in a fixed order: each
// flaw on the kernel design that had it, then the same experiment on
// drvsim's design. Package scenarios registers them; `drvsim explore NAME`
// runs them.
func Scenarios() []sim.Scenario {
	return []sim.Scenario{
		scenario("v3-shared-handle", "v3",
			"Two tasks share one v3 struct revocable and read through it; a third revokes "+
				"(revocable_provider_free). One task's srcu_read_unlock uses the index the other stored, "+
				"and synchronize_srcu never completes: a hung task.",
			sim.BugDeadlock, V3SharedHandle),
		scenario("merged-shared-handle", "merged",
			"Two tasks share one merged struct revocable (set up once by revocable_init) and read "+
				"through it; a third calls revocable_provider_revoke. The shared rev->idx sends one "+
				"srcu_read_unlock to the wrong index and the revoke hangs.",
			sim.BugDeadlock, MergedSharedHandle),
		scenario("merged-copied-provider", "merged",
			"open() copies the __rcu provider pointer into the file's private data; unbind revokes "+
				"the provider, which is freed by kfree_rcu; the file's next read runs revocable_init on the "+
				"stale copy and kref_get_unless_zero reads the freed provider: a use-after-free.",
			sim.BugUseAfterFree, MergedCopiedProvider),
		scenario("drvsim-shared-handle", "drvsim",
			"The shared-handle experiment on drvsim's revocable: two tasks share one Consumer, a "+
				"third revokes. Each Access carries its own index, so every schedule completes.",
			"", DrvsimSharedHandle),
		scenario("drvsim-copied-provider", "drvsim",
			"The copied-pointer experiment on drvsim's revocable: the file's private data holds the "+
				"*Provider; after Revoke, New on it fails with ErrRevoked, and the provider, refcounted, "+
				"is released only when its last reference goes. Every schedule completes.",
			"", DrvsimCopiedProvider),
	}
}

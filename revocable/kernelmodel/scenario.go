package kernelmodel

import (
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
)

// labSchedules is the default schedule budget of the design lab's
// scenarios; every one of them ends (a failure found, or the space
// exhausted) well within it.
const labSchedules = 20000

// scenario declares one experiment of the design lab on design ("v3",
// "merged", "v8", "v10" or "drvsim"), explored exhaustively by default.
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

// Scenarios returns the design lab's experiments, in a fixed order: the
// shared handle, the copied provider pointer, the gpiolib conversion's
// race, the last put in atomic context, then v10's KUnit reference counts;
// within each experiment the kernel's designs in the order they were
// posted, then drvsim's. Package scenarios registers them; `drvsim explore
// NAME` runs them.
func Scenarios() []sim.Scenario {
	return []sim.Scenario{
		// The shared handle.
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
		withPreemptions(3, scenario("merged-shared-provider", "merged",
			"The shared-handle experiment with the merged design's per-read form: the readers share the "+
				"driver's __rcu provider pointer and each read runs REVOCABLE_TRY_ACCESS_WITH, a struct "+
				"revocable of its own. No index is shared: every schedule completes.",
			"", MergedSharedProvider)),
		scenario("v8-shared-handle", "v8",
			"Two tasks share a v8 struct revocable_consumer kept in the file (revocable_init at open), "+
				"which v8 still allows; a third revokes. The handle's idx is shared as before, and the "+
				"revoke hangs.",
			sim.BugDeadlock, V8SharedHandle),
		scenario("v8-shared-provider", "v8",
			"The shared-handle experiment as v8 intends it: the file holds the provider with a reference "+
				"of its own and each read uses revocable_try_access_with, a fresh handle on the stack. No "+
				"index is shared: every schedule completes.",
			"", V8SharedProvider),
		scenario("v10-shared-handle", "v10",
			"Two tasks share a v10 struct revocable_handle kept in the file (revocable_handle_init at "+
				"open); a third revokes. The handle's idx is shared, and the revoke hangs.",
			sim.BugDeadlock, V10SharedHandle),
		scenario("v10-shared-provider", "v10",
			"The shared-handle experiment as v10 intends it: the file holds the provider with a reference "+
				"of its own and each read builds a fresh handle. Every schedule completes.",
			"", V10SharedProvider),
		scenario("drvsim-shared-handle", "drvsim",
			"The shared-handle experiment on drvsim's revocable: two tasks share one Consumer, a "+
				"third revokes. Each Access carries its own index, so every schedule completes.",
			"", DrvsimSharedHandle),
		scenario("drvsim-shared-provider", "drvsim",
			"The shared-handle experiment per read on drvsim's revocable: the readers share the "+
				"*Provider and each read opens a Consumer, reads with With and closes it. Every schedule "+
				"completes.",
			"", DrvsimSharedProvider),
		// The copied provider pointer.
		scenario("v3-copied-provider", "v3",
			"open() copies the v3 provider pointer into the file and each read allocates its handle "+
				"from the copy (revocable_alloc: kref_get); unbind frees the provider "+
				"(revocable_provider_free): a read after the free is a use-after-free in kref_get.",
			sim.BugUseAfterFree, V3CopiedProvider),
		scenario("merged-copied-provider", "merged",
			"open() copies the __rcu provider pointer into the file's private data; unbind revokes "+
				"the provider, which is freed by kfree_rcu; the file's next read runs revocable_init on the "+
				"stale copy and kref_get_unless_zero reads the freed provider: a use-after-free.",
			sim.BugUseAfterFree, MergedCopiedProvider),
		scenario("v8-copied-provider", "v8",
			"open() copies the provider pointer into the file and takes a reference for it "+
				"(revocable_get, v8's contract); unbind revokes and drops the creator's reference; the read "+
				"uses revocable_try_access_or_return on the copy. The copy is a reference: every schedule "+
				"completes.",
			"", V8CopiedProvider),
		scenario("v10-copied-provider", "v10",
			"The copied-pointer experiment on v10, keeping its contract (revocable_get at open, "+
				"revocable_put at release): every schedule completes.",
			"", V10CopiedProvider),
		scenario("drvsim-copied-provider", "drvsim",
			"The copied-pointer experiment on drvsim's revocable: the file's private data holds the "+
				"*Provider; after Revoke, New on it fails with ErrRevoked, and the provider, refcounted, "+
				"is released only when its last reference goes. Every schedule completes.",
			"", DrvsimCopiedProvider),
		// The gpiolib conversion's race.
		scenario("v3-gpiolib-race", "v3",
			"gpiolib's DEFINE_REVOCABLE(rev, gdev->chip_rp): revocable_init's kref_get on a provider "+
				"that gpiochip_remove revokes and frees at the same time (and leaves gdev->chip_rp "+
				"pointing to): a use-after-free in kref_get.",
			sim.BugUseAfterFree, V3GPIOLib),
		scenario("merged-gpiolib-race", "merged",
			"REVOCABLE_TRY_ACCESS_WITH(gdev->chip_rp, gc) evaluates the __rcu pointer before "+
				"revocable_init's RCU section: loaded just before revocable_provider_revoke, the provider "+
				"is freed by kfree_rcu and kref_get_unless_zero reads freed memory.",
			sim.BugUseAfterFree, MergedGPIOLib),
		scenario("v8-gpiolib-race", "v8",
			"The gpiolib race on v8: the gpio_device owns the provider's second reference and the "+
				"consumer holds the gpio_device, so revocable_init's kref_get is safe: every schedule "+
				"completes, with the value or -ENODEV.",
			"", V8GPIOLib),
		scenario("v10-gpiolib-race", "v10",
			"The gpiolib race on v10: the provider is embedded in the refcounted gpio_device "+
				"(revocable_init), revoked at gpiochip_remove and put at gpiodev_release: every schedule "+
				"completes.",
			"", V10GPIOLib),
		scenario("drvsim-gpiolib-race", "drvsim",
			"The gpiolib race on drvsim's revocable: the gpio_device keeps the *Provider, the accessor "+
				"opens a Consumer (New fails with ErrRevoked once revoked): every schedule completes.",
			"", DrvsimGPIOLib),
		// The last put in atomic context.
		scenario("v3-atomic-put", "v3",
			"An URB holds a v3 handle (revocable_alloc at submit); its completion handler, in atomic "+
				"context, reads through it and frees it while unbind frees the provider. When the "+
				"handler's revocable_free is the last put, the release runs cleanup_srcu_struct, which "+
				"may sleep: sleeping in atomic context.",
			sim.BugLockdep, V3AtomicPut),
		scenario("merged-atomic-put", "merged",
			"The same driver on the merged design: the URB holds a struct revocable (revocable_init at "+
				"submit), the handler calls revocable_deinit in atomic context while unbind revokes: the "+
				"last put's release sleeps in atomic context.",
			sim.BugLockdep, MergedAtomicPut),
		scenario("v8-atomic-put", "v8",
			"The same driver on v8: the URB holds a reference (revocable_get at submit), the handler "+
				"drops it with revocable_put in atomic context while unbind revokes and drops the "+
				"creator's: revocable_release's cleanup_srcu_struct sleeps in atomic context.",
			sim.BugLockdep, V8AtomicPut),
		scenario("v10-atomic-put", "v10",
			"The same driver on v10: the last put queues revocable_release_worker on the system "+
				"workqueue, which cleans up in process context. Every schedule completes.",
			"", V10AtomicPut),
		scenario("drvsim-atomic-put", "drvsim",
			"The same driver on drvsim's revocable (a Consumer per URB, closed by the handler): the "+
				"provider's release sleeps nowhere. Every schedule completes.",
			"", DrvsimAtomicPut),
		// v10's KUnit reference counts.
		withSchedules(50000, scenario("v10-kunit-refcount", "v10",
			"v10's concurrent KUnit case with its reference counts (2 after alloc, 3 and 4 with two "+
				"handles, 4 while the revoke waits for a reader, NULL for a reader after the revoke began, "+
				"1 at the end, the last put's cleanup on the system workqueue): every interleaving "+
				"keeps the counts.",
			"", V10KUnitRefcount)),
	}
}

// withSchedules raises sc's schedule budget to n, for an experiment whose
// whole space is larger than the lab's default.
func withSchedules(n int, sc sim.Scenario) sim.Scenario {
	sc.Defaults.Schedules = n
	return sc
}

// withPreemptions bounds sc's exhaustive exploration to n preemptions per
// schedule, for an experiment whose unbounded space is too large to
// explore at every test run (merged-shared-provider's is 69040 schedules,
// all clean).
func withPreemptions(n int, sc sim.Scenario) sim.Scenario {
	sc.Defaults.MaxPreemptions = n
	return sc
}

// waitFor names what a task of an experiment waits for (a sim Block).
func waitFor(what string) sched.Wait { return sched.Wait{What: what} }

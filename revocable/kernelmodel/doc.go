// Package kernelmodel is drvsim's design lab for revocable resources: it
// holds behavioural models of the designs the Linux kernel tried (the two
// it merged and reverted, and two posted after the revert), run on
// drvsim's deterministic scheduler (package sim) and its simulated
// memory, and the experiments that replay their flaws, next to the same
// experiments run on drvsim's own package revocable.
//
// These are models for study, not for use. Drivers use package revocable.
//
// # The models
//
//   - Package v3 models the seed design (patch v3, 2025): a provider
//     allocated with revocable_provider_alloc and freed with
//     revocable_provider_free, a heap-allocated consumer handle
//     (revocable_alloc / revocable_free) that stores the SRCU read index
//     of its current access, revocable_try_access / revocable_release and
//     the REVOCABLE() macro.
//   - Package merged models the form merged into the driver-core tree
//     (2026-01): an RCU-protected provider pointer revoked through
//     revocable_provider_revoke(&rp), a stack consumer set up by
//     revocable_init (kref_get_unless_zero inside an RCU read section) and
//     torn down by revocable_deinit, revocable_withdraw_access, the
//     provider freed with kfree_rcu, and the REVOCABLE_TRY_ACCESS_WITH /
//     REVOCABLE_TRY_ACCESS_SCOPED macros.
//   - Package v8 models the series as reposted in 2026-02: the provider
//     renamed struct revocable and allocated with two references (one for
//     the revoke, one for its creator), public revocable_get and
//     revocable_put, revocable_init taking an unconditional reference,
//     macros that build a fresh handle per access, and the _or_return and
//     _or_skip forms.
//   - Package v10 models the series of 2026-05: revocable_alloc and an
//     embedded revocable_init, struct revocable_handle with
//     revocable_handle_init/deinit, and an allocated provider's cleanup
//     deferred to the system workqueue (package kernel's) by its last put.
//   - Package klib holds the kernel primitives they are built from, modelled
//     on sim: kmalloc/kfree on checked simulated memory, kref, a small
//     faithful Tree-SRCU (per-domain lock and unlock counters indexed by
//     srcu_idx, a two-scan synchronize_srcu that flips the index and waits
//     with sched Block), and RCU read sections, synchronize_rcu and
//     kfree_rcu (the free runs in a callback task after a grace period).
//
// Every field of a modelled struct that lives in kmalloc'ed memory is read
// and written through a checked accessor, so a use of the provider after
// its kfree is reported the way KASAN would report it, naming who
// allocated and who freed it.
//
// # The scenarios
//
// Each experiment is a function of a *sim.Sim that builds a fresh system
// and starts its tasks, one per design: the shared handle
// (V3SharedHandle, ..., V8SharedProvider), the copied provider pointer
// (MergedCopiedProvider, ...), the gpiolib conversion's race
// (V3GPIOLib, ...), the last reference dropped in atomic context
// (V3AtomicPut, ...) and v10's KUnit reference counts (V10KUnitRefcount).
// ReadPaths counts what a read costs in each design.
// Scenarios declares them as sim.Scenario values, with a description and
// the kind of bug exploration is expected to find (none for drvsim's own
// design); package scenarios registers them, and the drvsim command line
// runs them (drvsim explore NAME). See docs/design-lab.md for the story
// and the reports.
package kernelmodel

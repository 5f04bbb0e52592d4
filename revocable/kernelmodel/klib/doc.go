// Package klib models, on drvsim's deterministic scheduler and simulated
// memory, the few kernel primitives the revocable designs of package
// kernelmodel are built from: kzalloc/kfree (env.Object, checked like
// KASAN), struct kref, a small Tree-SRCU, and RCU read sections,
// synchronize_rcu and kfree_rcu.
//
// These are models for study, not for use: they are deliberately as
// simple as the kernel's semantics allow, and they run only inside a
// sim run (one simulated task at a time, so they need no Go locks).
//
// # SRCU
//
// SRCUStruct follows kernel/rcu/srcutree.c at the level that matters for
// the revocable designs: a domain has an index, srcu_idx, and a lock
// counter and an unlock counter per index (the kernel keeps them per CPU
// and sums them; one simulated CPU is enough here). srcu_read_lock loads
// the index, increments lock_count[idx] and returns idx; srcu_read_unlock
// increments unlock_count[idx] for the idx it is given, whatever the
// caller locked. synchronize_srcu waits (sim Block) until the index not in
// use has as many unlocks as locks, flips srcu_idx, and waits the same way
// for the old index. A reader that passes the wrong idx to
// srcu_read_unlock therefore leaves one index with a lock never matched by
// an unlock: the next grace period waits forever, and the run fails with a
// deadlock (hung task) report whose wait-for chain names the task whose
// lock is unmatched.
//
// The unmatched-lock attribution (which task's lock is still counted on
// an index) and the "wrong epoch" warning are debug instrumentation drvsim
// adds, as lockdep would; the kernel's counters carry no owner.
//
// # RCU
//
// RCU read sections are tracked per simulated task. synchronize_rcu, and
// the callback of kfree_rcu, wait until every reader that was inside a
// read section when they started has left it. kfree_rcu starts a
// callback task ("rcu_kfree") that waits for that grace period and then
// frees the object: as in the kernel, the free happens some time later,
// in another context, and the scheduler decides when.
//
// cleanup_srcu_struct may sleep: it is might_sleep's BUG in atomic context
// (a spinlock held, an interrupt handler), as in the kernel.
//
// # Counting a read
//
// The kernel model counts every kref_get, kref_get_unless_zero, kref_put,
// srcu_read_lock, srcu_read_unlock, rcu_read_lock and kzalloc it runs
// (Kernel.Counts): what a read costs in each design, counted in a real
// run rather than read off the code.
//
// Schedule points: srcu_read_lock (between loading the index and
// incrementing the counter, the kernel's own race window),
// srcu_read_unlock, the entry of synchronize_srcu and of synchronize_rcu,
// rcu_read_lock (inside the section) and rcu_read_unlock, and Preempt,
// which an experiment places where the kernel could preempt a task
// between two instructions that matter; every wait is a sim Block,
// visible to the deadlock detector.
package klib

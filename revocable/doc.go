// Package revocable models the kernel's revocable resources
// (drivers/base/revocable.c, include/linux/revocable.h): a provider owns a
// resource that can disappear at any moment (a hot-unplugged device's
// registers, a driver's private data after unbind), and consumers that
// outlive it reach the resource only through short read sections that
// either see it whole or see nil.
//
// # Model
//
// A Provider (struct revocable_provider) holds a pointer to the resource, an
// SRCU domain (package revocable/srcu) and a reference count. A Consumer
// (struct revocable) is a handle that holds one reference on its provider.
// Consumer.TryAccess (revocable_try_access) enters a read section and
// returns the resource, or nil once revoked; Access.Release
// (revocable_release, later revocable_withdraw_access) leaves it.
// The scoped forms leave the section on every exit path and differ in
// what a revoked resource does to their block: Consumer.Scoped runs it
// with nil (REVOCABLE_TRY_ACCESS_SCOPED() and ..._WITH() when merged,
// revocable_try_access_with_scoped() in v8), Consumer.OrSkip skips it
// (v8's revocable_try_access_or_skip_scoped()), Consumer.OrReturn skips
// it and returns ErrRevoked, the kernel's -ENODEV (v8's
// revocable_try_access_or_return()). Provider.Revoke (revocable_provider_free in the v3 seed,
// revocable_provider_revoke when merged) publishes nil, waits for a grace
// period so that no reader still uses the old pointer, and drops the
// provider's own reference. DevmProvider (devm_revocable_provider_alloc)
// ties the revoke to a device's devres list.
//
// # Lifetimes
//
// The provider's count starts at 1 (its own reference, dropped by Revoke);
// New adds one per Consumer and Consumer.Close drops it. When the count
// reaches zero the provider is released (revocable_provider_release: the
// kernel's cleanup_srcu_struct and kfree_rcu) and is marked so: Released
// reports it and a trace event records it. New takes its reference with
// kref_get_unless_zero semantics and also refuses a revoked provider, so a
// Consumer can never reach a released provider: it holds a reference.
//
// # Sharing a Consumer: why the kernel's version was reverted and ours is not
//
// The kernel stored the SRCU read index in the consumer struct
// (rev->idx = srcu_read_lock(...)). Two threads sharing one handle overwrite
// each other's index, one unlock lands on the wrong epoch, and the revoke's
// synchronize_srcu never completes: a hung task. Here TryAccess returns an
// Access guard, a small value carrying the reader slot and the epoch index,
// and Release unlocks exactly what that guard locked. The index is never
// stored in the shared Consumer, so one Consumer may be used by any number
// of goroutines at once; the flaw is impossible by construction. (Each
// Consumer has its own reader slot, so goroutines with their own Consumers
// do not even share a cache line; goroutines sharing one Consumer share its
// slot's line but stay correct.)
//
// The kernel's second flaw, a copied provider pointer reaching freed memory
// in revocable_init, cannot happen in Go (the garbage collector keeps the
// memory), and the modelled lifetime stays sound: New on a revoked or
// released provider fails with ErrRevoked.
//
// # Misuse
//
// Misuse panics with a message that names it, rather than hanging:
// Release of a zero Access (Release without TryAccess), a double Release
// that would drive the slot's counter negative, TryAccess on a closed
// Consumer, and, with WithLockdep or under a scheduler, Revoke from inside
// the calling goroutine's (or simulated task's) own read section, which
// would otherwise deadlock exactly as synchronize_srcu inside
// srcu_read_lock does. The scoped forms on a closed Consumer return
// ErrClosed instead of panicking, because they return an error already;
// TryAccess has no error to return and a closed handle is a programming
// error, so it panics.
// Closing a Consumer twice returns ErrClosed.
//
// # Tracing and deterministic runs
//
// A provider lives in the environment of the machine it is created for
// (NewProvider's Host, DevmProvider's device; package env). Its lifecycle
// steps are recorded in that machine's trace: trace.Revocable events for
// revocable_provider_alloc, revocable_init, revocable_deinit and
// revocable_provider_release, trace.Revoke events for the revoke's start
// and end, and the SRCU domain's grace periods (trace.SRCU). TryAccess and
// Release record nothing: they are the hot path. On the simulator the read
// lock and unlock, the revoke and the grace-period wait are schedule
// points; with lockdep on (the default) a Revoke from inside its own read
// section panics instead of deadlocking.
package revocable

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrRevoked reports a provider that is revoked or released: New fails
	// with it (revocable_init's -ENODEV) and OrReturn returns it without
	// calling its function when the resource is gone (the kernel's NULL
	// from revocable_try_access).
	ErrRevoked = errors.New("revocable: resource revoked (-ENODEV)")
	// ErrClosed reports use of a Consumer after Close: a second Close, or
	// a scoped form (Scoped, OrSkip, OrReturn) on a closed Consumer. In the kernel this is a use-after-free of
	// struct revocable.
	ErrClosed = errors.New("revocable: consumer closed")
)

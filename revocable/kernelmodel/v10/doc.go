// Package v10 is a behavioural model of the revocable design posted as
// patch v10 on 8 May 2026 (drivers/base/revocable.c and
// include/linux/revocable.h of that series, never merged), after the
// review of v9, with the release path of the revision that followed it,
// run on drvsim's sim with the klib primitives and the kernel library's
// system workqueue.
//
// It is a model for study, not for use. What v10 is:
//
//   - A provider (struct revocable, Revocable) is either allocated
//     (RevocableAlloc) or embedded in the owner's structure and set up with
//     RevocableInit. Either way it starts with two references: the revoke
//     (RevocableRevoke) drops one, the owner drops the other with
//     RevocablePut. RevocableGet and RevocablePut are public.
//   - The consumer handle is struct revocable_handle (RevocableHandle),
//     set up by RevocableHandleInit (an unconditional reference: the caller
//     must already hold one) and torn down by RevocableHandleDeinit.
//   - The macros build a fresh handle on the stack for every access, with
//     the same forms as v8 (with, or_return_err, or_return, or_skip).
//
// One change is taken from the revision after v10 (its
// revocable_release_worker), as the history of the series records it:
// the last put of an allocated provider does not clean up in its own
// context but queues the cleanup (cleanup_srcu_struct, which may sleep,
// and kfree) on the system workqueue, because that put may come from an
// atomic context. The same revision stopped counting references on
// embedded providers; this model keeps v10's counting for them and
// cleans them up in the last put, as v10 did.
//
// Each function's documentation names the C function or macro it models;
// the statements follow the C body one for one.
package v10

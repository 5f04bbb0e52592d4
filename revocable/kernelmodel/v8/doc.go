// Package v8 is a behavioural model of the revocable design posted as
// patch v8 on 13 February 2026, after the revert (drivers/base/revocable.c
// and include/linux/revocable.h of that series, never merged), run on
// drvsim's sim with the klib primitives: the provider is a simulated
// kmalloc'ed object whose every field access is checked.
//
// It is a model for study, not for use. What v8 changed:
//
//   - The provider is renamed struct revocable (Revocable) and the consumer
//     handle struct revocable_consumer (RevocableConsumer).
//   - RevocableAlloc returns a provider holding two references: one the
//     revoke drops, one the creator drops with RevocablePut. RevocableGet
//     and RevocablePut are public, so whoever keeps a provider pointer (a
//     file's private data) can hold a reference of its own.
//   - RevocableInit takes its reference unconditionally (kref_get): the
//     caller must already hold one. The RCU-protected provider pointer of
//     the merged design is gone; the copied-pointer flaw is closed by that
//     contract, not by a check.
//   - The macros build a fresh handle on the stack for every access, so two
//     tasks never share an index through them; the handle with its index
//     is still public (RevocableInit on a struct kept in a file), and
//     sharing one still hangs the revoke.
//   - New macro forms return or skip when the resource is gone.
//
// The provider's release (cleanup_srcu_struct, kfree) runs in whatever
// context drops the last reference; cleanup_srcu_struct may sleep.
//
// Each function's documentation names the C function or macro it models;
// the statements follow the C body one for one.
package v8

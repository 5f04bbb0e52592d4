// Package merged is a behavioural model of the revocable design merged into
// the driver-core tree in 2026-01 (drivers/base/revocable.c and
// include/linux/revocable.h as merged, reverted weeks later), run on
// drvsim's sim: the provider is a simulated kmalloc'ed object whose every
// field access is checked, and SRCU, RCU, kref and kfree_rcu are the klib
// models.
//
// It is a model for study, not for use: it reproduces the design's
// behaviour, flaws included. The provider pointer is RCU-protected
// (ProviderPtr, the struct revocable_provider __rcu * variable), revoked
// through RevocableProviderRevoke(&ptr), which sets that one variable to
// NULL and frees the provider with kfree_rcu once the last kref is gone.
// Its two flaws:
//
//   - struct revocable still stores the SRCU index of the access in
//     progress, so a handle shared by two tasks can unbalance the grace
//     period and hang the revoke (as in the v3 seed);
//   - the RCU protection covers only the variable passed to the revoke. A
//     copy of the pointer (in a file's private data, say) stays non-NULL
//     after the revoke, and RevocableInit on it runs kref_get_unless_zero
//     on the freed provider: a use-after-free.
//
// Each function's documentation names the C function it models; the
// statements follow the C body one for one.
package merged

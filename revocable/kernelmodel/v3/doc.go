// Package v3 is a behavioural model of the seed revocable design (patch
// v3, 2025-09, drivers/base/revocable.c and include/linux/revocable.h of
// that series), run on drvsim's sim: the provider and consumer structs are
// simulated kmalloc'ed objects, every field access is checked, and SRCU,
// kref and kfree are the klib models.
//
// It is a model for study, not for use: it reproduces the design's
// behaviour, flaws included. Its flaw is that struct revocable, the
// consumer handle, stores the SRCU index of the access in progress
// (rev->idx = srcu_read_lock(...)): two tasks sharing one handle overwrite
// each other's index, one srcu_read_unlock lands on the wrong index, and
// the next synchronize_srcu, in revocable_provider_free, never completes.
//
// Each function's documentation names the C function it models; the
// statements follow the C body one for one.
package v3

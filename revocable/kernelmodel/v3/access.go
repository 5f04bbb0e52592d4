package v3

import (
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// RevocableTryAccess models revocable_try_access(rev):
//
//	struct revocable_provider *rp = rev->rp;
//	rev->idx = srcu_read_lock(&rp->srcu);
//	return rcu_dereference(rp->res);
//
// The index is stored in the handle: a second task using the same handle
// overwrites it.
func RevocableTryAccess(rev *Revocable) *env.Object {
	rev.obj.Access("revocable_try_access")
	rp := rev.rp
	idx := rp.srcu.ReadLock()
	rev.obj.Access("revocable_try_access")
	rev.idx = idx
	rp.k.Emit(trace.Revocable, "revocable_try_access", "", fmt.Sprintf("rev->idx = %d", idx))
	rp.obj.Access("revocable_try_access")
	return rp.res
}

// RevocableRelease models revocable_release(rev):
//
//	struct revocable_provider *rp = rev->rp;
//	srcu_read_unlock(&rp->srcu, rev->idx);
//
// It unlocks whatever index the handle holds now, which is the last one
// stored by any task sharing the handle.
func RevocableRelease(rev *Revocable) {
	rev.obj.Access("revocable_release")
	rp := rev.rp
	rp.k.Emit(trace.Revocable, "revocable_release", "", fmt.Sprintf("srcu_read_unlock(&rp->srcu, rev->idx = %d)", rev.idx))
	rp.srcu.ReadUnlock(rev.idx)
}

// REVOCABLE models the REVOCABLE(rev, res) macro: a one-iteration for
// loop whose body sees res = revocable_try_access(rev), with
// revocable_release(rev) run on every exit from the body (the __free
// cleanup). body must check res for NULL (nil).
func REVOCABLE(rev *Revocable, body func(res *env.Object)) {
	res := RevocableTryAccess(rev)
	defer RevocableRelease(rev)
	body(res)
}

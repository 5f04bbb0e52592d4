package v8

import (
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// RevocableConsumer is struct revocable_consumer of v8, the consumer
// handle:
//
//	struct revocable_consumer {
//		struct revocable *rp;
//		int idx;
//	};
//
// The macros declare one on the stack per access; a driver may also keep
// one (in a file's private data), and then idx is shared by every task
// using it, as in the earlier designs.
type RevocableConsumer struct {
	rp  *Revocable
	idx int
}

// RevocableInit models revocable_init(rp, rev):
//
//	revocable_get(rp);
//	rev->rp = rp;
//
// The reference is taken unconditionally: the caller must already hold
// one (a NULL provider is a NULL pointer dereference, a released one a
// refcount_t warning, a freed one a use-after-free in kref_get).
func RevocableInit(rp *Revocable, rev *RevocableConsumer) {
	RevocableGet(rp)
	rev.rp = rp
}

// RevocableDeinit models revocable_deinit(rev): revocable_put(rev->rp).
func RevocableDeinit(rev *RevocableConsumer) {
	RevocablePut(rev.rp)
}

// RevocableTryAccess models revocable_try_access(rev):
//
//	struct revocable *rp = rev->rp;
//	rev->idx = srcu_read_lock(&rp->srcu);
//	return srcu_dereference(rp->res, &rp->srcu);
func RevocableTryAccess(rev *RevocableConsumer) *env.Object {
	rp := rev.rp
	rev.idx = rp.srcu.ReadLock()
	rp.emit(trace.Revocable, "revocable_try_access", fmt.Sprintf("rev->idx = %d", rev.idx))
	rp.obj.Access("revocable_try_access")
	return rp.res
}

// RevocableWithdrawAccess models revocable_withdraw_access(rev):
//
//	struct revocable *rp = rev->rp;
//	srcu_read_unlock(&rp->srcu, rev->idx);
func RevocableWithdrawAccess(rev *RevocableConsumer) {
	rp := rev.rp
	rp.emit(trace.Revocable, "revocable_withdraw_access", fmt.Sprintf("srcu_read_unlock(&rp->srcu, rev->idx = %d)", rev.idx))
	rp.srcu.ReadUnlock(rev.idx)
}

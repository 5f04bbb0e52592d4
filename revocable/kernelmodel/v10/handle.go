package v10

import (
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// RevocableHandle is struct revocable_handle of v10, the consumer handle:
//
//	struct revocable_handle {
//		struct revocable *rev;
//		int idx;
//	};
//
// The macros declare one on the stack per access; a driver may also keep
// one, and then idx is shared by every task using it.
type RevocableHandle struct {
	rev *Revocable
	idx int
}

// RevocableHandleInit models revocable_handle_init(rev, rh):
//
//	revocable_get(rev);
//	rh->rev = rev;
//
// The reference is taken unconditionally: the caller must already hold
// one.
func RevocableHandleInit(rev *Revocable, rh *RevocableHandle) {
	RevocableGet(rev)
	rh.rev = rev
}

// RevocableHandleDeinit models revocable_handle_deinit(rh):
// revocable_put(rh->rev).
func RevocableHandleDeinit(rh *RevocableHandle) {
	RevocablePut(rh.rev)
}

// RevocableTryAccess models revocable_try_access(rh):
//
//	struct revocable *rev = rh->rev;
//	rh->idx = srcu_read_lock(&rev->srcu);
//	return srcu_dereference(rev->res, &rev->srcu);
func RevocableTryAccess(rh *RevocableHandle) *env.Object {
	rev := rh.rev
	rh.idx = rev.srcu.ReadLock()
	rev.emit(trace.Revocable, "revocable_try_access", fmt.Sprintf("rh->idx = %d", rh.idx))
	rev.obj.Access("revocable_try_access")
	return rev.res
}

// RevocableWithdrawAccess models revocable_withdraw_access(rh):
//
//	struct revocable *rev = rh->rev;
//	srcu_read_unlock(&rev->srcu, rh->idx);
func RevocableWithdrawAccess(rh *RevocableHandle) {
	rev := rh.rev
	rev.emit(trace.Revocable, "revocable_withdraw_access", fmt.Sprintf("srcu_read_unlock(&rev->srcu, rh->idx = %d)", rh.idx))
	rev.srcu.ReadUnlock(rh.idx)
}

package merged

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/trace"
)

// ErrNoDevice is the error RevocableInit returns for a NULL, revoked or
// releasing provider (-ENODEV).
var ErrNoDevice = errors.New("ENODEV: no such device")

// Revocable is struct revocable as merged, the consumer handle, usually a
// stack value:
//
//	struct revocable {
//		struct revocable_provider *rp;
//		int idx;
//	};
//
// idx is the SRCU index of the access in progress: a handle shared by two
// tasks is unsound.
type Revocable struct {
	rp  *RevocableProvider
	idx int
}

// NewRevocable returns the value the macros start from:
// struct revocable _rev = {.rp = NULL, .idx = -1}.
func NewRevocable() Revocable { return Revocable{idx: -1} }

// RevocableInit models revocable_init(_rp, rev):
//
//	if (!_rp)
//		return -ENODEV;
//	scoped_guard(rcu) {
//		rp = rcu_dereference(_rp);
//		if (!rp)
//			return -ENODEV;
//		if (!kref_get_unless_zero(&rp->kref))
//			return -ENODEV;
//	}
//	rev->rp = rp;
//	return 0;
//
// _rp is a value: when it is a stale copy of a revoked provider's pointer,
// the RCU read section protects nothing and kref_get_unless_zero reads
// freed memory.
func RevocableInit(k *klib.Kernel, rpv ProviderPtr, rev *Revocable) error {
	if rpv.IsNull() {
		return fmt.Errorf("revocable_init: NULL provider: %w", ErrNoDevice)
	}
	k.RCUReadLock()
	rp := rpv.rp // rcu_dereference(_rp)
	if rp == nil {
		k.RCUReadUnlock()
		return fmt.Errorf("revocable_init: provider revoked: %w", ErrNoDevice)
	}
	if !rp.kref.GetUnlessZero() {
		k.RCUReadUnlock()
		return fmt.Errorf("revocable_init: provider releasing: %w", ErrNoDevice)
	}
	k.RCUReadUnlock()
	rev.rp = rp
	k.Emit(trace.Revocable, "revocable_init", "", fmt.Sprintf("refs=%d", rp.kref.Read()))
	return nil
}

// RevocableDeinit models revocable_deinit(rev):
//
//	struct revocable_provider *rp = rev->rp;
//	kref_put(&rp->kref, revocable_provider_release);
func RevocableDeinit(rev *Revocable) {
	rp := rev.rp
	rp.k.Emit(trace.Revocable, "revocable_deinit", "", "")
	rp.kref.Put(rp.revocableProviderRelease)
}

// RevocableTryAccess models revocable_try_access(rev):
//
//	struct revocable_provider *rp = rev->rp;
//	rev->idx = srcu_read_lock(&rp->srcu);
//	return srcu_dereference(rp->res, &rp->srcu);
func RevocableTryAccess(rev *Revocable) *env.Object {
	rp := rev.rp
	rev.idx = rp.srcu.ReadLock()
	rp.k.Emit(trace.Revocable, "revocable_try_access", "", fmt.Sprintf("rev->idx = %d", rev.idx))
	rp.obj.Access("revocable_try_access")
	return rp.res
}

// RevocableWithdrawAccess models revocable_withdraw_access(rev):
//
//	struct revocable_provider *rp = rev->rp;
//	srcu_read_unlock(&rp->srcu, rev->idx);
func RevocableWithdrawAccess(rev *Revocable) {
	rp := rev.rp
	rp.k.Emit(trace.Revocable, "revocable_withdraw_access", "", fmt.Sprintf("srcu_read_unlock(&rp->srcu, rev->idx = %d)", rev.idx))
	rp.srcu.ReadUnlock(rev.idx)
}

// freeAccessRev models the DEFINE_FREE(access_rev, ...) cleanup the macros
// attach to their struct revocable:
//
//	if ((_T)->idx != -1)
//		revocable_withdraw_access(_T);
//	if ((_T)->rp)
//		revocable_deinit(_T);
func freeAccessRev(rev *Revocable) {
	if rev.idx != -1 {
		RevocableWithdrawAccess(rev)
	}
	if rev.rp != nil {
		RevocableDeinit(rev)
	}
}

// tryAccessWith is _REVOCABLE_TRY_ACCESS_WITH: the handle, its cleanup,
// and res = revocable_init(_rp, &_rev) ? NULL : revocable_try_access(&_rev).
func tryAccessWith(k *klib.Kernel, rp ProviderPtr, body func(res *env.Object)) {
	rev := NewRevocable()
	defer freeAccessRev(&rev)
	var res *env.Object
	if RevocableInit(k, rp, &rev) == nil {
		res = RevocableTryAccess(&rev)
	}
	body(res)
}

// REVOCABLE_TRY_ACCESS_WITH models the macro of that name: it declares a
// struct revocable in the current scope, sets res to the resource (NULL
// when init fails or the resource is revoked) and withdraws the access
// and deinits the handle when the scope ends. In Go the scope is body.
func REVOCABLE_TRY_ACCESS_WITH(k *klib.Kernel, rp ProviderPtr, body func(res *env.Object)) {
	tryAccessWith(k, rp, body)
}

// REVOCABLE_TRY_ACCESS_SCOPED models the macro of that name: the same
// cleanup as REVOCABLE_TRY_ACCESS_WITH, scoped to a one-iteration for
// loop whose body always runs (with res NULL when the resource is gone).
func REVOCABLE_TRY_ACCESS_SCOPED(k *klib.Kernel, rp ProviderPtr, body func(res *env.Object)) {
	for rev, done := NewRevocable(), false; !done; done = true {
		func() {
			defer freeAccessRev(&rev)
			var res *env.Object
			if RevocableInit(k, rp, &rev) == nil {
				res = RevocableTryAccess(&rev)
			}
			body(res)
		}()
	}
}

package v8

import (
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/trace"
)

// Revocable is struct revocable of v8, the provider handle:
//
//	struct revocable {
//		struct srcu_struct srcu;
//		void __rcu *res;
//		struct kref kref;
//	};
//
// It lives in a simulated allocation; its fields are reached through
// checked accesses.
type Revocable struct {
	k    *klib.Kernel
	obj  *env.Object
	srcu klib.SRCUStruct
	res  *env.Object
	kref klib.Kref
}

// Object returns the provider's simulated allocation.
func (rp *Revocable) Object() *env.Object { return rp.obj }

// Kref returns the provider's kref (for inspection and, as the KUnit tests
// do, for refcount_read and refcount_set).
func (rp *Revocable) Kref() *klib.Kref { return &rp.kref }

// Res reads rp->res without entering a read section, for tests that check
// whether the resource is still published. The access is checked.
func (rp *Revocable) Res() *env.Object {
	rp.obj.Access("rcu_access_pointer")
	return rp.res
}

func (rp *Revocable) emit(kind trace.Kind, fn, msg string) { rp.k.Emit(kind, fn, "", msg) }

// revocableRelease models revocable_release(kref):
//
//	cleanup_srcu_struct(&rp->srcu);
//	kfree(rp);
//
// It runs in the context of the last put, atomic or not.
func (rp *Revocable) revocableRelease(*klib.Kref) {
	rp.emit(trace.Revocable, "revocable_release", "cleanup_srcu_struct, kfree(rp)")
	rp.srcu.Cleanup()
	klib.Kfree(rp.obj)
}

// RevocableGet models revocable_get(rp): kref_get(&rp->kref).
func RevocableGet(rp *Revocable) {
	rp.kref.Get()
	rp.emit(trace.Revocable, "revocable_get", fmt.Sprintf("refs=%d", rp.kref.Read()))
}

// RevocablePut models revocable_put(rp):
// kref_put(&rp->kref, revocable_release).
func RevocablePut(rp *Revocable) {
	rp.emit(trace.Revocable, "revocable_put", fmt.Sprintf("refs=%d", rp.kref.Read()-1))
	rp.kref.Put(rp.revocableRelease)
}

// RevocableAlloc models revocable_alloc(res):
//
//	rp = kzalloc(sizeof(*rp), GFP_KERNEL);
//	init_srcu_struct(&rp->srcu);
//	RCU_INIT_POINTER(rp->res, res);
//	kref_init(&rp->kref);
//	revocable_get(rp);
//	return rp;
//
// The provider holds two references: RevocableRevoke drops one, the
// caller drops the other with RevocablePut.
func RevocableAlloc(k *klib.Kernel, res *env.Object) *Revocable {
	rp := &Revocable{k: k, obj: k.Kzalloc("revocable")}
	rp.srcu.Init(k, rp.obj, "rp->srcu")
	rp.obj.Access("revocable_alloc")
	rp.res = res
	rp.kref.Init(k, rp.obj)
	rp.kref.Get()
	rp.emit(trace.Revocable, "revocable_alloc", "refs=2")
	return rp
}

// RevocableRevoke models revocable_revoke(rp):
//
//	rcu_assign_pointer(rp->res, NULL);
//	synchronize_srcu(&rp->srcu);
//	revocable_put(rp);
func RevocableRevoke(rp *Revocable) {
	rp.emit(trace.Revoke, "revocable_revoke", "rp->res = NULL")
	rp.obj.Access("revocable_revoke")
	rp.res = nil
	rp.srcu.Synchronize()
	rp.emit(trace.Revoke, "revocable_revoke", "grace period done")
	RevocablePut(rp)
}

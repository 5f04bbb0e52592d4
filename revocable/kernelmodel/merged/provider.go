package merged

import (
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/trace"
)

// RevocableProvider is struct revocable_provider as merged:
//
//	struct revocable_provider {
//		struct srcu_struct srcu;
//		void __rcu *res;
//		struct kref kref;
//		struct rcu_head rcu;
//	};
//
// It lives in a simulated allocation; its fields are reached through
// checked accesses.
type RevocableProvider struct {
	k    *klib.Kernel
	obj  *env.Object
	srcu klib.SRCUStruct
	res  *env.Object
	kref klib.Kref
}

// ProviderPtr is a struct revocable_provider __rcu * variable. It is a
// plain value: assigning it copies the pointer, as C does, and the copy is
// not cleared by a revoke through the original.
type ProviderPtr struct {
	rp *RevocableProvider
}

// IsNull reports whether the pointer is NULL (unrcu_pointer(p) == NULL).
func (p ProviderPtr) IsNull() bool { return p.rp == nil }

// Provider returns the pointed-to provider, nil for NULL (unrcu_pointer).
func (p ProviderPtr) Provider() *RevocableProvider { return p.rp }

// RCUReplacePointer models rcu_replace_pointer(*p, v, 1): it stores v in
// *p and returns the old value.
func RCUReplacePointer(p *ProviderPtr, v ProviderPtr) ProviderPtr {
	old := *p
	*p = v
	return old
}

// Object returns the provider's simulated allocation.
func (rp *RevocableProvider) Object() *env.Object { return rp.obj }

// SRCU returns the provider's SRCU domain (for inspection).
func (rp *RevocableProvider) SRCU() *klib.SRCUStruct { return &rp.srcu }

// Kref returns the provider's kref (for inspection and, as the KUnit test
// does, for refcount_set).
func (rp *RevocableProvider) Kref() *klib.Kref { return &rp.kref }

// Res reads rp->res without entering a read section, for tests that
// check whether the resource is still published. The access is checked.
func (rp *RevocableProvider) Res() *env.Object {
	rp.obj.Access("rcu_access_pointer")
	return rp.res
}

// RevocableProviderAlloc models revocable_provider_alloc(res):
//
//	rp = kzalloc(sizeof(*rp), GFP_KERNEL);
//	init_srcu_struct(&rp->srcu);
//	RCU_INIT_POINTER(rp->res, res);
//	kref_init(&rp->kref);
//	return (struct revocable_provider __rcu *)rp;
func RevocableProviderAlloc(k *klib.Kernel, res *env.Object) ProviderPtr {
	rp := &RevocableProvider{k: k, obj: k.Kzalloc("revocable_provider")}
	rp.srcu.Init(k, rp.obj, "rp->srcu")
	rp.obj.Access("revocable_provider_alloc")
	rp.res = res
	rp.kref.Init(k, rp.obj)
	k.Emit(trace.Revocable, "revocable_provider_alloc", "", "refs=1")
	return ProviderPtr{rp: rp}
}

// revocableProviderRelease models revocable_provider_release(kref):
//
//	cleanup_srcu_struct(&rp->srcu);
//	kfree_rcu(rp, rcu);
func (rp *RevocableProvider) revocableProviderRelease(*klib.Kref) {
	rp.srcu.Cleanup()
	rp.k.Emit(trace.Revocable, "revocable_provider_release", "", "kfree_rcu(rp, rcu)")
	rp.k.KfreeRCU(rp.obj, "revocable_provider_release")
}

// RevocableProviderRevoke models revocable_provider_revoke(rp_ptr):
//
//	rp = rcu_replace_pointer(*rp_ptr, NULL, 1);
//	if (!rp)
//		return;
//	rcu_assign_pointer(rp->res, NULL);
//	synchronize_srcu(&rp->srcu);
//	kref_put(&rp->kref, revocable_provider_release);
//
// Only *rpPtr is cleared; copies of the pointer are not.
func RevocableProviderRevoke(rpPtr *ProviderPtr) {
	rp := RCUReplacePointer(rpPtr, ProviderPtr{}).rp
	if rp == nil {
		return
	}
	rp.k.Emit(trace.Revoke, "revocable_provider_revoke", "", "*rp_ptr = NULL, rp->res = NULL")
	rp.obj.Access("revocable_provider_revoke")
	rp.res = nil
	rp.srcu.Synchronize()
	rp.k.Emit(trace.Revoke, "revocable_provider_revoke", "", "grace period done")
	rp.kref.Put(rp.revocableProviderRelease)
}

package v3

import (
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/trace"
)

// RevocableProvider is struct revocable_provider of the v3 seed:
//
//	struct revocable_provider {
//		struct srcu_struct srcu;
//		void __rcu *res;
//		struct kref kref;
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
//	rcu_assign_pointer(rp->res, res);
//	synchronize_srcu(&rp->srcu);
//	kref_init(&rp->kref);
//	return rp;
func RevocableProviderAlloc(k *klib.Kernel, res *env.Object) *RevocableProvider {
	rp := &RevocableProvider{k: k, obj: k.Kzalloc("revocable_provider")}
	rp.srcu.Init(k, rp.obj, "rp->srcu")
	rp.obj.Access("revocable_provider_alloc")
	rp.res = res
	rp.srcu.Synchronize()
	rp.kref.Init(k, rp.obj)
	k.Emit(trace.Revocable, "revocable_provider_alloc", "", "refs=1")
	return rp
}

// revocableProviderRelease models revocable_provider_release(kref):
//
//	cleanup_srcu_struct(&rp->srcu);
//	kfree(rp);
func (rp *RevocableProvider) revocableProviderRelease(*klib.Kref) {
	rp.srcu.Cleanup()
	rp.k.Emit(trace.Revocable, "revocable_provider_release", "", "kfree(rp)")
	klib.Kfree(rp.obj)
}

// RevocableProviderFree models revocable_provider_free(rp):
//
//	rcu_assign_pointer(rp->res, NULL);
//	synchronize_srcu(&rp->srcu);
//	kref_put(&rp->kref, revocable_provider_release);
func RevocableProviderFree(rp *RevocableProvider) {
	rp.k.Emit(trace.Revoke, "revocable_provider_free", "", "res = NULL")
	rp.obj.Access("revocable_provider_free")
	rp.res = nil
	rp.srcu.Synchronize()
	rp.k.Emit(trace.Revoke, "revocable_provider_free", "", "grace period done")
	rp.kref.Put(rp.revocableProviderRelease)
}

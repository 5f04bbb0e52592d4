package v3

import (
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/trace"
)

// Revocable is struct revocable of the v3 seed, the consumer handle:
//
//	struct revocable {
//		struct revocable_provider *rp;
//		int idx;
//	};
//
// It is kmalloc'ed by RevocableAlloc; idx is the SRCU index of the access
// in progress, which is what makes a shared handle unsound.
type Revocable struct {
	obj *env.Object
	rp  *RevocableProvider
	idx int
}

// Object returns the handle's simulated allocation.
func (rev *Revocable) Object() *env.Object { return rev.obj }

// RevocableAlloc models revocable_alloc(rp):
//
//	rev = kzalloc(sizeof(*rev), GFP_KERNEL);
//	rev->rp = rp;
//	kref_get(&rp->kref);
//	return rev;
//
// There is no check on rp: a NULL provider is a NULL pointer dereference,
// a freed one a use-after-free, a releasing one a refcount_t warning.
func RevocableAlloc(k *klib.Kernel, rp *RevocableProvider) *Revocable {
	rev := &Revocable{obj: k.Kzalloc("revocable")}
	rev.obj.Access("revocable_alloc")
	rev.rp = rp
	rp.kref.Get()
	k.Emit(trace.Revocable, "revocable_alloc", "", fmt.Sprintf("refs=%d", rp.kref.Read()))
	return rev
}

// RevocableFree models revocable_free(rev):
//
//	struct revocable_provider *rp = rev->rp;
//	kref_put(&rp->kref, revocable_provider_release);
//	kfree(rev);
func RevocableFree(rev *Revocable) {
	rev.obj.Access("revocable_free")
	rp := rev.rp
	rp.k.Emit(trace.Revocable, "revocable_free", "", "")
	rp.kref.Put(rp.revocableProviderRelease)
	klib.Kfree(rev.obj)
}

package v10

import (
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/trace"
)

// Revocable is struct revocable of v10, the provider handle:
//
//	struct revocable {
//		struct srcu_struct srcu;
//		void __rcu *res;
//		struct kref kref;
//		bool embedded;
//		struct work_struct release_work;	(the revision after v10)
//	};
//
// It lives in a simulated allocation of its own (RevocableAlloc) or in
// its owner's (RevocableInit); its fields are reached through checked
// accesses of that allocation.
type Revocable struct {
	k           *klib.Kernel
	obj         *env.Object
	srcu        klib.SRCUStruct
	res         *env.Object
	kref        klib.Kref
	embedded    bool
	releaseWork *kernel.Work
}

// Object returns the allocation the provider lives in: its own, or its
// owner's when embedded.
func (rev *Revocable) Object() *env.Object { return rev.obj }

// Kref returns the provider's kref (for inspection, as the KUnit tests'
// get_refcount does, and for refcount_set).
func (rev *Revocable) Kref() *klib.Kref { return &rev.kref }

// Embedded reports rev->embedded.
func (rev *Revocable) Embedded() bool {
	rev.obj.Access("rev->embedded")
	return rev.embedded
}

// Res reads rev->res without entering a read section, for tests that
// check whether the resource is still published. The access is checked.
func (rev *Revocable) Res() *env.Object {
	rev.obj.Access("rcu_access_pointer")
	return rev.res
}

func (rev *Revocable) emit(kind trace.Kind, fn, msg string) { rev.k.Emit(kind, fn, "", msg) }

// revocableReleaseWorker models revocable_release_worker(work), of the
// revision after v10:
//
//	revocable_destroy(rev);		(cleanup_srcu_struct(&rev->srcu))
//	kfree(rev);
func (rev *Revocable) revocableReleaseWorker(*kernel.Work) {
	rev.emit(trace.Revocable, "revocable_release_worker", "cleanup_srcu_struct, kfree(rev)")
	rev.srcu.Cleanup()
	klib.Kfree(rev.obj)
}

// revocableRelease models revocable_release(kref). For an embedded
// provider it is v10's:
//
//	cleanup_srcu_struct(&rev->srcu);
//
// and for an allocated one that of the revision after v10, which defers
// the cleanup to process context because the last put may be atomic:
//
//	INIT_WORK(&rev->release_work, revocable_release_worker);
//	schedule_work(&rev->release_work);
func (rev *Revocable) revocableRelease(*klib.Kref) {
	if rev.embedded {
		rev.emit(trace.Revocable, "revocable_release", "embedded: cleanup_srcu_struct")
		rev.srcu.Cleanup()
		return
	}
	rev.emit(trace.Revocable, "revocable_release", "schedule_work(&rev->release_work)")
	rev.releaseWork = kernel.NewWork(rev.k.Sim(), "revocable_release_worker", rev.revocableReleaseWorker)
	kernel.ScheduleWork(rev.releaseWork)
}

// RevocableInit models revocable_init(rev, res), for a provider embedded
// in its owner's structure (in, a simulated allocation):
//
//	init_srcu_struct(&rev->srcu);
//	RCU_INIT_POINTER(rev->res, res);
//	kref_init(&rev->kref);
//	kref_get(&rev->kref);
//	rev->embedded = true;
//
// The provider holds two references: RevocableRevoke drops one, the owner
// the other with RevocablePut.
func RevocableInit(k *klib.Kernel, rev *Revocable, in *env.Object, res *env.Object) {
	*rev = Revocable{k: k, obj: in}
	rev.srcu.Init(k, in, "rev->srcu")
	rev.obj.Access("revocable_init")
	rev.res = res
	rev.kref.Init(k, in)
	rev.kref.Get()
	rev.embedded = true
	rev.emit(trace.Revocable, "revocable_init", "refs=2")
}

// RevocableAlloc models revocable_alloc(res):
//
//	rev = kzalloc_obj(*rev);
//	revocable_init(rev, res);
//	rev->embedded = false;
//	return rev;
func RevocableAlloc(k *klib.Kernel, res *env.Object) *Revocable {
	rev := &Revocable{}
	RevocableInit(k, rev, k.Kzalloc("revocable"), res)
	rev.obj.Access("revocable_alloc")
	rev.embedded = false
	return rev
}

// RevocableGet models revocable_get(rev): kref_get(&rev->kref).
func RevocableGet(rev *Revocable) {
	rev.kref.Get()
	rev.emit(trace.Revocable, "revocable_get", fmt.Sprintf("refs=%d", rev.kref.Read()))
}

// RevocablePut models revocable_put(rev):
// kref_put(&rev->kref, revocable_release).
func RevocablePut(rev *Revocable) {
	rev.emit(trace.Revocable, "revocable_put", fmt.Sprintf("refs=%d", rev.kref.Read()-1))
	rev.kref.Put(rev.revocableRelease)
}

// RevocableRevoke models revocable_revoke(rev):
//
//	rcu_assign_pointer(rev->res, NULL);
//	synchronize_srcu(&rev->srcu);
//	revocable_put(rev);
func RevocableRevoke(rev *Revocable) {
	rev.emit(trace.Revoke, "revocable_revoke", "rev->res = NULL")
	rev.obj.Access("revocable_revoke")
	rev.res = nil
	rev.srcu.Synchronize()
	rev.emit(trace.Revoke, "revocable_revoke", "grace period done")
	RevocablePut(rev)
}

package kernelmodel_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/revocable/kernelmodel"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/revocable/kernelmodel/v10"
	"github.com/drvsim/drvsim/revocable/kernelmodel/v8"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refs is get_refcount(rev) of the KUnit cases.
func refs(kref *klib.Kref) int { return kref.Read() }

// expectEq is KUNIT_EXPECT_EQ inside a sim task.
func expectEq(got, want int, what string) {
	expect(got == want, "%s: got %d, want %d", what, got, want)
}

// runTask runs fn as the one task of a sim run with a kernel model, and
// requires the run to pass.
func runTask(t *testing.T, fn func(s *sim.Sim, k *klib.Kernel)) *sim.Result {
	t.Helper()
	res := sim.Run(sim.Config{Test: t.Name()}, func(s *sim.Sim) {
		k := klib.New(s)
		s.Go("kunit", func() { fn(s, k) })
	})
	require.False(t, res.Failed(), res.String())
	return res
}

// v10's KUnit cases (drivers/base/revocable_test.c of the v10 series),
// with their reference counts, on the v10 model: basic, revocation and
// the macro forms on an allocated provider, basic and revocation on an
// embedded one. The allocated provider's last put queues its cleanup on
// the system workqueue: the cases flush it and check the provider freed.
func TestV10KUnitCounts(t *testing.T) {
	flushAndCheckFreed := func(s *sim.Sim, obj *env.Object) {
		kernel.SystemWQ(s).Flush()
		expect(obj.Freed(), "the release work frees an allocated provider")
	}
	t.Run("basic", func(t *testing.T) {
		runTask(t, func(s *sim.Sim, k *klib.Kernel) {
			real := k.Kzalloc("real_res")
			rev := v10.RevocableAlloc(k, real)
			expectEq(refs(rev.Kref()), 2, "after alloc")
			expect(!rev.Embedded(), "rev->embedded is false")
			var rh v10.RevocableHandle
			v10.RevocableHandleInit(rev, &rh)
			expectEq(refs(rev.Kref()), 3, "after handle_init")
			expect(v10.RevocableTryAccess(&rh) == real, "res == real_res")
			v10.RevocableWithdrawAccess(&rh)
			expectEq(refs(rev.Kref()), 3, "after access and withdraw")
			v10.RevocableHandleDeinit(&rh)
			expectEq(refs(rev.Kref()), 2, "after handle_deinit")
			v10.RevocableRevoke(rev)
			expectEq(refs(rev.Kref()), 1, "after revoke")
			obj := rev.Object()
			v10.RevocablePut(rev)
			flushAndCheckFreed(s, obj)
			klib.Kfree(real)
		})
	})
	t.Run("embedded_basic", func(t *testing.T) {
		runTask(t, func(s *sim.Sim, k *klib.Kernel) {
			real := k.Kzalloc("real_res")
			owner := k.Kzalloc("foo_device")
			var rev v10.Revocable
			v10.RevocableInit(k, &rev, owner, real)
			expect(rev.Embedded(), "rev.embedded is true")
			expectEq(refs(rev.Kref()), 2, "after init")
			var rh v10.RevocableHandle
			v10.RevocableHandleInit(&rev, &rh)
			expectEq(refs(rev.Kref()), 3, "after handle_init")
			expect(v10.RevocableTryAccess(&rh) == real, "res == real_res")
			v10.RevocableWithdrawAccess(&rh)
			v10.RevocableHandleDeinit(&rh)
			v10.RevocableRevoke(&rev)
			expectEq(refs(rev.Kref()), 1, "after revoke")
			v10.RevocablePut(&rev) // cleans up in place: the owner frees the memory
			expect(!owner.Freed(), "an embedded provider's release frees nothing")
			klib.Kfree(owner)
			klib.Kfree(real)
		})
	})
	t.Run("revocation", func(t *testing.T) {
		runTask(t, func(s *sim.Sim, k *klib.Kernel) {
			real := k.Kzalloc("real_res")
			rev := v10.RevocableAlloc(k, real)
			var rh v10.RevocableHandle
			v10.RevocableHandleInit(rev, &rh)
			expect(v10.RevocableTryAccess(&rh) == real, "res == real_res")
			v10.RevocableWithdrawAccess(&rh)
			expectEq(refs(rev.Kref()), 3, "before revoke")
			v10.RevocableRevoke(rev)
			expectEq(refs(rev.Kref()), 2, "after revoke")
			expect(v10.RevocableTryAccess(&rh) == nil, "res == NULL after revoke")
			v10.RevocableWithdrawAccess(&rh)
			expectEq(refs(rev.Kref()), 2, "after the access")
			v10.RevocableHandleDeinit(&rh)
			expectEq(refs(rev.Kref()), 1, "after handle_deinit")
			obj := rev.Object()
			v10.RevocablePut(rev)
			flushAndCheckFreed(s, obj)
			klib.Kfree(real)
		})
	})
	t.Run("try_access_macro", func(t *testing.T) {
		runTask(t, func(s *sim.Sim, k *klib.Kernel) {
			real := k.Kzalloc("real_res")
			rev := v10.RevocableAlloc(k, real)
			v10.RevocableTryAccessWith(rev, func(res *env.Object) {
				expect(res == real, "res == real_res")
				expectEq(refs(rev.Kref()), 3, "inside revocable_try_access_with")
			})
			expectEq(refs(rev.Kref()), 2, "after revocable_try_access_with")
			v10.RevocableRevoke(rev)
			expectEq(refs(rev.Kref()), 1, "after revoke")
			accessed := false
			v10.RevocableTryAccessWith(rev, func(res *env.Object) {
				expect(res == nil, "res == NULL after revoke")
				expectEq(refs(rev.Kref()), 2, "inside, after revoke")
				accessed = true
			})
			expect(accessed, "the scoped body runs with NULL")
			enxio := errors.New("ENXIO")
			err := v10.RevocableTryAccessOrReturnErr(rev, enxio, func(*env.Object) error { panic("unreachable") })
			expect(err == enxio, "or_return_err returns -ENXIO: %v", err)
			err = v10.RevocableTryAccessOrReturn(rev, func(*env.Object) error { panic("unreachable") })
			expect(errors.Is(err, v10.ErrNoDevice), "or_return returns -ENODEV: %v", err)
			v10.RevocableTryAccessOrSkip(rev, func(*env.Object) { panic("or_skip ran its body") })
			expectEq(refs(rev.Kref()), 1, "after the macros")
			obj := rev.Object()
			v10.RevocablePut(rev)
			flushAndCheckFreed(s, obj)
			klib.Kfree(real)
		})
	})
}

// v8's reference counts are v10's (revocable_alloc holds two; the revoke
// and the creator drop one each); v8's release runs in the last put.
func TestV8KUnitCounts(t *testing.T) {
	res := runTask(t, func(s *sim.Sim, k *klib.Kernel) {
		real := k.Kzalloc("real_res")
		rp := v8.RevocableAlloc(k, real)
		expectEq(refs(rp.Kref()), 2, "after alloc")
		var rev v8.RevocableConsumer
		v8.RevocableInit(rp, &rev)
		expectEq(refs(rp.Kref()), 3, "after revocable_init")
		expect(v8.RevocableTryAccess(&rev) == real, "res == real_res")
		v8.RevocableWithdrawAccess(&rev)
		v8.RevocableRevoke(rp)
		expectEq(refs(rp.Kref()), 2, "after revoke")
		expect(v8.RevocableTryAccess(&rev) == nil, "res == NULL after revoke")
		v8.RevocableWithdrawAccess(&rev)
		v8.RevocableDeinit(&rev)
		expectEq(refs(rp.Kref()), 1, "after revocable_deinit")
		v8.RevocableTryAccessWith(rp, func(res *env.Object) {
			expect(res == nil, "the macro's res is NULL after revoke")
			expectEq(refs(rp.Kref()), 2, "inside the macro")
		})
		obj := rp.Object()
		v8.RevocablePut(rp)
		expect(obj.Freed(), "v8's last put frees in place")
		klib.Kfree(real)
	})
	assert.Contains(t, res.TraceText(), "[kunit] revocable_release: cleanup_srcu_struct, kfree(rp)")
}

// v8's contract is the caller's: a file that copies the provider pointer
// without revocable_get relies on a reference it does not hold, and its
// read's revocable_init (an unconditional kref_get) then touches the
// provider the driver's last put freed.
func TestV8CopiedProviderWithoutReference(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 1000, Config: sim.EnvConfig(t.Name(), 1)}, func(s *sim.Sim) {
		k := klib.New(s)
		regs := k.Kzalloc("ec_regs")
		rp := v8.RevocableAlloc(k, regs)
		filpRp := rp // open(): copied, no revocable_get
		s.Go("unbind", func() {
			v8.RevocableRevoke(rp)
			klib.Kfree(regs)
			v8.RevocablePut(rp)
		})
		s.Go("read", func() {
			_ = v8.RevocableTryAccessOrReturn(filpRp, func(res *env.Object) error {
				res.Access("ec_cmd_xfer")
				return nil
			})
		})
	})
	require.True(t, res.Failed(), res.String())
	assert.Equal(t, sim.BugUseAfterFree, res.Failure.Failure.Kind)
	assert.Contains(t, res.Failure.String(), "BUG: KASAN: use-after-free in kref_get\n")
}

// The concurrent KUnit case's counts hold in the schedule without
// preemptions too, and the trace shows the cleanup done by the worker.
func TestV10KUnitRefcountTrace(t *testing.T) {
	res := sim.Run(sim.Config{Test: t.Name()}, kernelmodel.V10KUnitRefcount)
	require.False(t, res.Failed(), res.String())
	tr := res.TraceText()
	assert.Contains(t, tr, "[kunit] revocable_release: schedule_work(&rev->release_work)")
	assert.Contains(t, tr, "[kworker/events] revocable_release_worker: cleanup_srcu_struct, kfree(rev)")
	assert.Contains(t, tr, "[kworker/events] kfree: revocable")
	assert.Contains(t, tr, fmt.Sprintf("[%s] revocable_try_access: rh->idx = ", "revocable_handle_2"))
}

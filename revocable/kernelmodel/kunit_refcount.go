package kernelmodel

import (
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/revocable/kernelmodel/v10"
	"github.com/drvsim/drvsim/sim"
)

// The tasks of v10's concurrent KUnit case: the test itself, the provider
// thread that revokes, and two consumer threads.
const (
	taskKUnit     = "kunit"
	taskProvider  = "revocable_0"
	taskConsumer1 = "revocable_handle_1"
	taskConsumer2 = "revocable_handle_2"
)

// expectRefs is KUNIT_EXPECT_EQ(test, get_refcount(rev), want): a
// mismatch fails the run.
func expectRefs(kref *klib.Kref, want int, when string) {
	if got := kref.Read(); got != want {
		panic(fmt.Sprintf("KUNIT_EXPECT_EQ failed %s: get_refcount(rev) == %d, want %d", when, got, want))
	}
}

// V10KUnitRefcount is v10's concurrent KUnit case
// (revocable_test_concurrent_access) with its reference counts, under the
// explorer: the KUnit task allocates the provider (count 2) and gives a
// handle to each consumer (3, 4); consumer 1 enters its read section; the
// provider thread revokes and must wait for it, keeping its reference
// meanwhile (still 4); consumer 2 enters after the revoke began and gets
// NULL; both consumers leave and the test deinitializes their handles;
// the revoke completes (1); the test's put drops the last reference, and
// the cleanup runs later, on the system workqueue: the test flushes it
// and the provider is freed. The KUnit case orders the steps with msleep;
// here each waits for the state it needs, so every interleaving of what
// is left is explored.
func V10KUnitRefcount(s *sim.Sim) {
	k := klib.New(s)
	res := k.Kzalloc("real_res")
	rev := v10.RevocableAlloc(k, res)
	kref := rev.Kref()
	expectRefs(kref, 2, "after revocable_alloc")
	if rev.Embedded() {
		panic("KUNIT_EXPECT_FALSE failed: rev->embedded")
	}
	var rh [3]v10.RevocableHandle
	for i := 1; i <= 2; i++ {
		v10.RevocableHandleInit(rev, &rh[i])
		expectRefs(kref, 2+i, fmt.Sprintf("after revocable_handle_init %d", i))
	}
	var enter, inside, exit, done [3]bool
	revokeDone := false
	consumer := func(i int, want *env.Object) func() {
		return func() {
			s.Block(waitFor(fmt.Sprintf("complete(&ctx[%d].enter)", i)), func() bool { return enter[i] })
			if got := v10.RevocableTryAccess(&rh[i]); got != want {
				panic(fmt.Sprintf("KUNIT_EXPECT_PTR_EQ failed: consumer %d got %v, want %v", i, got, want))
			}
			inside[i] = true
			s.Block(waitFor(fmt.Sprintf("complete(&ctx[%d].exit)", i)), func() bool { return exit[i] })
			v10.RevocableWithdrawAccess(&rh[i])
			done[i] = true
		}
	}
	s.Go(taskConsumer1, consumer(1, res))
	s.Go(taskConsumer2, consumer(2, nil))
	s.Go(taskProvider, func() {
		s.Block(waitFor("complete(&ctx[0].enter)"), func() bool { return enter[0] })
		v10.RevocableRevoke(rev)
		revokeDone = true
	})
	s.Go(taskKUnit, func() {
		enter[1] = true // consumer 1 enters its read-side critical section
		s.Block(waitFor("consumer 1 inside"), func() bool { return inside[1] })
		enter[0] = true // the provider revokes
		s.Block(waitFor("revoke started"), func() bool { return rev.Res() == nil })
		// The provider can't exit: it waits for the grace period, and
		// keeps its reference meanwhile.
		if revokeDone {
			panic("revocable_revoke returned while a reader was inside")
		}
		expectRefs(kref, 4, "while the revoke waits")
		enter[2] = true // consumer 2 enters after the revoke began: NULL
		s.Block(waitFor("consumer 2 inside"), func() bool { return inside[2] })
		for i := 1; i <= 2; i++ {
			exit[i] = true
			s.Block(waitFor(fmt.Sprintf("kthread_stop(ctx[%d].thread)", i)), func() bool { return done[i] })
			v10.RevocableHandleDeinit(&rh[i])
		}
		s.Block(waitFor("kthread_stop(ctx[0].thread)"), func() bool { return revokeDone })
		expectRefs(kref, 1, "after the revoke and the handles' deinit")
		obj := rev.Object()
		v10.RevocablePut(rev) // drop the caller reference: the cleanup is queued
		kernel.SystemWQ(s).Flush()
		if !obj.Freed() {
			panic("the release work did not free the provider")
		}
		klib.Kfree(res)
	})
}

package kernelmodel

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/revocable/kernelmodel/merged"
	"github.com/drvsim/drvsim/revocable/kernelmodel/v10"
	v3 "github.com/drvsim/drvsim/revocable/kernelmodel/v3"
	"github.com/drvsim/drvsim/revocable/kernelmodel/v8"
	"github.com/drvsim/drvsim/sim"
)

// The task of the atomic-put experiment that runs in atomic context: an
// URB's completion handler, which the host controller driver calls with
// interrupts off.
const taskComplete = "urb_complete"

// The atomic-put experiment: a driver submits an URB and, for it, takes a
// reference on the provider of its registers (each design's way: a handle
// or a get), which the completion handler drops once it has read the
// status through the provider. Meanwhile unbind revokes the provider and
// drops the driver's own reference. Whichever put comes last releases the
// provider; when it is the handler's, the release runs in atomic context,
// where cleanup_srcu_struct, which may sleep, is a bug.

// inCompletion runs handler as the URB's completion: a task in atomic
// context (local_irq_save, modelled as spin_lock_irqsave of the HCD's
// lock).
func inCompletion(s *sim.Sim, handler func()) {
	lock := kernel.NewSpinLock(s, "hcd->lock")
	s.Go(taskComplete, func() {
		flags := lock.LockIRQSave()
		handler()
		lock.UnlockIRQRestore(flags)
	})
}

// readStatus is the handler's use of the registers.
func readStatus(res *env.Object) { res.Access("skel_read_bulk_callback: read status") }

// V3AtomicPut is the atomic-put experiment on the v3 seed: the URB holds a
// handle (revocable_alloc at submit); the handler reads through REVOCABLE
// and frees the handle (revocable_free); unbind frees the provider
// (revocable_provider_free). When the handler's revocable_free drops the
// last reference, revocable_provider_release runs cleanup_srcu_struct in
// atomic context: sleeping in atomic context.
func V3AtomicPut(s *sim.Sim) {
	k := klib.New(s)
	regs := k.Kzalloc("ec_regs")
	rp := v3.RevocableProviderAlloc(k, regs)
	rev := v3.RevocableAlloc(k, rp) // usb_submit_urb: the URB's handle
	inCompletion(s, func() {
		v3.REVOCABLE(rev, func(res *env.Object) {
			if res != nil {
				readStatus(res)
			}
		})
		v3.RevocableFree(rev)
	})
	s.Go(taskUnbind, func() {
		v3.RevocableProviderFree(rp)
		klib.Kfree(regs)
	})
}

// MergedAtomicPut is the atomic-put experiment on the merged design: the
// URB holds a struct revocable set up by revocable_init at submit; the
// handler reads through it and calls revocable_deinit; unbind calls
// revocable_provider_revoke, which drops the provider's own reference
// after the grace period. When the handler's deinit is the last put, the
// release runs cleanup_srcu_struct in atomic context.
func MergedAtomicPut(s *sim.Sim) {
	k := klib.New(s)
	regs := k.Kzalloc("ec_regs")
	priv := struct{ rp merged.ProviderPtr }{rp: merged.RevocableProviderAlloc(k, regs)}
	rev := merged.NewRevocable() // in the URB's context
	if err := merged.RevocableInit(k, priv.rp, &rev); err != nil {
		panic(fmt.Sprintf("revocable_init at submit: %v", err))
	}
	inCompletion(s, func() {
		if res := merged.RevocableTryAccess(&rev); res != nil {
			readStatus(res)
		}
		merged.RevocableWithdrawAccess(&rev)
		merged.RevocableDeinit(&rev)
	})
	s.Go(taskUnbind, func() {
		merged.RevocableProviderRevoke(&priv.rp)
		klib.Kfree(regs)
	})
}

// V8AtomicPut is the atomic-put experiment on v8: the URB holds a
// reference (revocable_get at submit); the handler reads with
// revocable_try_access_or_skip_scoped and drops the reference with
// revocable_put; unbind revokes, frees the registers and drops the
// creator's reference. When the handler's put is the last,
// revocable_release runs cleanup_srcu_struct in atomic context.
func V8AtomicPut(s *sim.Sim) {
	k := klib.New(s)
	regs := k.Kzalloc("ec_regs")
	rp := v8.RevocableAlloc(k, regs)
	v8.RevocableGet(rp) // usb_submit_urb: the URB's reference
	inCompletion(s, func() {
		v8.RevocableTryAccessOrSkip(rp, readStatus)
		v8.RevocablePut(rp)
	})
	s.Go(taskUnbind, func() {
		v8.RevocableRevoke(rp)
		klib.Kfree(regs)
		v8.RevocablePut(rp)
	})
}

// V10AtomicPut is the atomic-put experiment on v10: the same driver as
// V8AtomicPut, but the last put of an allocated provider only queues
// revocable_release_worker on the system workqueue, which cleans up in
// process context. Every schedule completes, and the worker frees the
// provider.
func V10AtomicPut(s *sim.Sim) {
	k := klib.New(s)
	regs := k.Kzalloc("ec_regs")
	rev := v10.RevocableAlloc(k, regs)
	v10.RevocableGet(rev)
	inCompletion(s, func() {
		v10.RevocableTryAccessOrSkip(rev, readStatus)
		v10.RevocablePut(rev)
	})
	s.Go(taskUnbind, func() {
		v10.RevocableRevoke(rev)
		klib.Kfree(regs)
		v10.RevocablePut(rev)
	})
}

// DrvsimAtomicPut is the atomic-put experiment on drvsim's revocable: the
// URB holds a Consumer (New at submit); the handler reads with With and
// closes the Consumer; unbind revokes and frees the registers. The
// provider's release only marks it released: nothing sleeps, whichever
// side drops the last reference. Every schedule completes.
func DrvsimAtomicPut(s *sim.Sim) {
	regs := s.Alloc("ec_regs")
	p := revocable.NewProvider(s, regs, revocable.WithName("ec"))
	c, err := revocable.New(p) // usb_submit_urb
	if err != nil {
		panic(fmt.Sprintf("revocable.New at submit: %v", err))
	}
	inCompletion(s, func() {
		err := c.OrReturn(func(res *env.Object) error { readStatus(res); return nil })
		if err != nil && !errors.Is(err, revocable.ErrRevoked) {
			panic(fmt.Sprintf("With: %v", err))
		}
		if err := c.Close(); err != nil {
			panic(err)
		}
	})
	s.Go(taskUnbind, func() {
		p.Revoke()
		regs.Free()
	})
	s.AddLeakCheck("revocable", func() []string { return providerLeaks(p) })
}

package kernelmodel

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/revocable/kernelmodel/merged"
	"github.com/drvsim/drvsim/revocable/kernelmodel/v10"
	v3 "github.com/drvsim/drvsim/revocable/kernelmodel/v3"
	"github.com/drvsim/drvsim/revocable/kernelmodel/v8"
	"github.com/drvsim/drvsim/sim"
)

// The tasks of the shared-handle experiment.
const (
	taskReader1 = "reader1"
	taskReader2 = "reader2"
	taskUnbind  = "unbind"
)

// shareBetweenReaders starts the experiment's three tasks: reader runs as
// reader1 and as reader2 at once (two threads reading one file), unbind
// as the driver's unbind.
func shareBetweenReaders(s *sim.Sim, reader, unbind func()) {
	s.Go(taskReader1, reader)
	s.Go(taskReader2, reader)
	s.Go(taskUnbind, unbind)
}

// useRegs is a reader's use of the resource inside its read section: two
// checked accesses around a schedule point (a command to the device that
// sleeps), so a resource freed while a reader is inside is reported.
func useRegs(s *sim.Sim, regs *env.Object) {
	regs.Access("ec_cmd_xfer")
	s.CondResched("ec_cmd_xfer")
	regs.Access("ec_cmd_xfer")
}

// V3SharedHandle is the shared-handle experiment on the v3 seed: one
// struct revocable (revocable_alloc at open) is used by two reader tasks
// at once, as two threads reading one file would; unbind calls
// revocable_provider_free and then frees the registers. The last reader
// frees the handle (the file's release).
func V3SharedHandle(s *sim.Sim) {
	k := klib.New(s)
	regs := k.Kzalloc("ec_regs")
	rp := v3.RevocableProviderAlloc(k, regs)
	rev := v3.RevocableAlloc(k, rp) // filp->private_data
	users := 2
	reader := func() {
		if res := v3.RevocableTryAccess(rev); res != nil {
			useRegs(s, res)
		}
		v3.RevocableRelease(rev)
		if users--; users == 0 {
			v3.RevocableFree(rev)
		}
	}
	shareBetweenReaders(s, reader, func() {
		v3.RevocableProviderFree(rp)
		klib.Kfree(regs)
	})
}

// MergedSharedHandle is the shared-handle experiment on the merged design:
// one struct revocable, set up by revocable_init at open and kept in the
// file's private data, is used by two reader tasks at once; unbind calls
// revocable_provider_revoke and then frees the registers. The last reader
// calls revocable_deinit (the file's release).
func MergedSharedHandle(s *sim.Sim) {
	k := klib.New(s)
	regs := k.Kzalloc("ec_regs")
	rp := merged.RevocableProviderAlloc(k, regs)
	rev := merged.NewRevocable() // in filp->private_data
	if err := merged.RevocableInit(k, rp, &rev); err != nil {
		panic(fmt.Sprintf("revocable_init at open: %v", err))
	}
	users := 2
	reader := func() {
		if res := merged.RevocableTryAccess(&rev); res != nil {
			useRegs(s, res)
		}
		merged.RevocableWithdrawAccess(&rev)
		if users--; users == 0 {
			merged.RevocableDeinit(&rev)
		}
	}
	shareBetweenReaders(s, reader, func() {
		merged.RevocableProviderRevoke(&rp)
		klib.Kfree(regs)
	})
}

// DrvsimSharedHandle is the shared-handle experiment on drvsim's own
// revocable, in the Sim's environment (NewProvider(s, ...)): one Consumer,
// opened at open, is used by two reader tasks at once; unbind revokes and
// then frees the registers; the last reader closes the Consumer. A leak
// check asserts the provider was released at the end of the run.
func DrvsimSharedHandle(s *sim.Sim) {
	regs := s.Alloc("ec_regs")
	p := revocable.NewProvider(s, regs, revocable.WithName("ec"))
	c, err := revocable.New(p) // filp->private_data
	if err != nil {
		panic(fmt.Sprintf("revocable.New at open: %v", err))
	}
	users := 2
	reader := func() {
		res, a := c.TryAccess()
		if res != nil {
			useRegs(s, res)
		}
		a.Release()
		if users--; users == 0 {
			if err := c.Close(); err != nil {
				panic(err)
			}
		}
	}
	shareBetweenReaders(s, reader, func() {
		p.Revoke()
		regs.Free()
	})
	s.AddLeakCheck("revocable", func() []string { return providerLeaks(p) })
}

// providerLeaks reports a drvsim provider not released, or with
// references left, at the end of a run.
func providerLeaks[T any](p *revocable.Provider[T]) []string {
	if p.Released() && p.Refs() == 0 {
		return nil
	}
	return []string{fmt.Sprintf("provider %s: released=%v refs=%d", p.Name(), p.Released(), p.Refs())}
}

// V8SharedHandle is the shared-handle experiment on v8 with the handle v8
// still makes public: the file's private data holds a struct
// revocable_consumer set up by revocable_init at open, and two reader
// tasks use it at once; unbind revokes, drops the driver's (creator's)
// reference and frees the registers. The last reader calls
// revocable_deinit (the file's release). v8's macros never share a handle,
// but nothing stops a driver from keeping one: the revoke hangs as before.
func V8SharedHandle(s *sim.Sim) {
	k := klib.New(s)
	regs := k.Kzalloc("ec_regs")
	rp := v8.RevocableAlloc(k, regs) // priv->rp, with the creator's reference
	var rev v8.RevocableConsumer     // in filp->private_data
	v8.RevocableInit(rp, &rev)       // open(): the driver holds a reference
	users := 2
	reader := func() {
		if res := v8.RevocableTryAccess(&rev); res != nil {
			useRegs(s, res)
		}
		v8.RevocableWithdrawAccess(&rev)
		if users--; users == 0 {
			v8.RevocableDeinit(&rev)
		}
	}
	shareBetweenReaders(s, reader, func() {
		v8.RevocableRevoke(rp)
		klib.Kfree(regs)
		v8.RevocablePut(rp) // remove(): the creator's reference
	})
}

// V8SharedProvider is the same experiment written as v8 intends: the
// file's private data holds the provider pointer and a reference of its
// own (revocable_get at open, as the v8 cros_ec conversion does), and
// each read uses revocable_try_access_with, which builds a fresh handle
// on the stack. The two readers share the provider, never an index: every
// schedule completes.
func V8SharedProvider(s *sim.Sim) {
	k := klib.New(s)
	regs := k.Kzalloc("ec_regs")
	rp := v8.RevocableAlloc(k, regs)
	filpRp := rp // open(): filp->private_data = rp ...
	v8.RevocableGet(filpRp)
	users := 2
	reader := func() {
		v8.RevocableTryAccessWith(filpRp, func(res *env.Object) {
			if res != nil {
				useRegs(s, res)
			}
		})
		if users--; users == 0 {
			v8.RevocablePut(filpRp) // release()
		}
	}
	shareBetweenReaders(s, reader, func() {
		v8.RevocableRevoke(rp)
		klib.Kfree(regs)
		v8.RevocablePut(rp)
	})
}

// V10SharedHandle is V8SharedHandle on v10: a struct revocable_handle kept
// in the file (revocable_handle_init at open) and shared by two readers.
func V10SharedHandle(s *sim.Sim) {
	k := klib.New(s)
	regs := k.Kzalloc("ec_regs")
	rev := v10.RevocableAlloc(k, regs)
	var rh v10.RevocableHandle
	v10.RevocableHandleInit(rev, &rh)
	users := 2
	reader := func() {
		if res := v10.RevocableTryAccess(&rh); res != nil {
			useRegs(s, res)
		}
		v10.RevocableWithdrawAccess(&rh)
		if users--; users == 0 {
			v10.RevocableHandleDeinit(&rh)
		}
	}
	shareBetweenReaders(s, reader, func() {
		v10.RevocableRevoke(rev)
		klib.Kfree(regs)
		v10.RevocablePut(rev)
	})
}

// V10SharedProvider is V8SharedProvider on v10: the file holds the
// provider with a reference of its own, and each read builds a fresh
// handle (revocable_try_access_with).
func V10SharedProvider(s *sim.Sim) {
	k := klib.New(s)
	regs := k.Kzalloc("ec_regs")
	rev := v10.RevocableAlloc(k, regs)
	filpRev := rev
	v10.RevocableGet(filpRev)
	users := 2
	reader := func() {
		v10.RevocableTryAccessWith(filpRev, func(res *env.Object) {
			if res != nil {
				useRegs(s, res)
			}
		})
		if users--; users == 0 {
			v10.RevocablePut(filpRev)
		}
	}
	shareBetweenReaders(s, reader, func() {
		v10.RevocableRevoke(rev)
		klib.Kfree(regs)
		v10.RevocablePut(rev)
	})
}

// MergedSharedProvider is the shared-handle experiment written with the
// merged design's per-read form: the file keeps the __rcu provider
// pointer the driver owns (read inside the macro, not copied), and each
// read runs REVOCABLE_TRY_ACCESS_WITH, which sets up a struct revocable
// of its own. No index is shared: every schedule completes.
func MergedSharedProvider(s *sim.Sim) {
	k := klib.New(s)
	regs := k.Kzalloc("ec_regs")
	priv := struct{ rp merged.ProviderPtr }{rp: merged.RevocableProviderAlloc(k, regs)}
	reader := func() {
		merged.REVOCABLE_TRY_ACCESS_WITH(k, priv.rp, func(res *env.Object) {
			if res != nil {
				useRegs(s, res)
			}
		})
	}
	shareBetweenReaders(s, reader, func() {
		merged.RevocableProviderRevoke(&priv.rp)
		klib.Kfree(regs)
	})
}

// DrvsimSharedProvider is the shared-handle experiment written per read
// on drvsim's revocable: the two readers share the *Provider, and each
// read opens a Consumer (New), reads with OrReturn and closes it. Every
// schedule completes.
func DrvsimSharedProvider(s *sim.Sim) {
	regs := s.Alloc("ec_regs")
	p := revocable.NewProvider(s, regs, revocable.WithName("ec"))
	reader := func() {
		c, err := revocable.New(p)
		if err != nil {
			if !errors.Is(err, revocable.ErrRevoked) {
				panic(fmt.Sprintf("New: %v", err))
			}
			return
		}
		if err := c.OrReturn(func(res *env.Object) error { useRegs(s, res); return nil }); err != nil && !errors.Is(err, revocable.ErrRevoked) {
			panic(fmt.Sprintf("OrReturn: %v", err))
		}
		if err := c.Close(); err != nil {
			panic(err)
		}
	}
	shareBetweenReaders(s, reader, func() {
		p.Revoke()
		regs.Free()
	})
	s.AddLeakCheck("revocable", func() []string { return providerLeaks(p) })
}

package kernelmodel

import (
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/revocable/kernelmodel/merged"
	v3 "github.com/drvsim/drvsim/revocable/kernelmodel/v3"
	"github.com/drvsim/drvsim/sim"
)

// The tasks of the shared-handle experiment.
const (
	taskReader1 = "reader1"
	taskReader2 = "reader2"
	taskUnbind  = "unbind"
)

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
	s.Go(taskReader1, reader)
	s.Go(taskReader2, reader)
	s.Go(taskUnbind, func() {
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
	s.Go(taskReader1, reader)
	s.Go(taskReader2, reader)
	s.Go(taskUnbind, func() {
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
	s.Go(taskReader1, reader)
	s.Go(taskReader2, reader)
	s.Go(taskUnbind, func() {
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

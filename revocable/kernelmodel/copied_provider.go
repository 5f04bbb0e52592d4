package kernelmodel

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/revocable/kernelmodel/merged"
	"github.com/drvsim/drvsim/sim"
)

// The tasks of the copied-provider experiment.
const taskRead = "read"

// mergedFile is the struct file of the experiment: open() stored the
// provider pointer, by value, in its private data.
type mergedFile struct {
	privateData merged.ProviderPtr
}

// MergedCopiedProvider is the copied-pointer experiment on the merged
// design, after the revert's own example: the driver keeps priv->rp, open()
// copies it into filp->private_data, unbind calls
// revocable_provider_revoke(&priv->rp) (which clears priv->rp only) and
// frees the registers, and a read on the file runs
// REVOCABLE_TRY_ACCESS_WITH(filp->private_data, res). When the read comes
// after the provider's kfree_rcu callback, revocable_init's
// kref_get_unless_zero reads freed memory.
func MergedCopiedProvider(s *sim.Sim) {
	k := klib.New(s)
	regs := k.Kzalloc("ec_regs")
	priv := struct{ rp merged.ProviderPtr }{}
	priv.rp = merged.RevocableProviderAlloc(k, regs)
	filp := &mergedFile{privateData: priv.rp} // open(): copied by value
	s.Go(taskUnbind, func() {
		merged.RevocableProviderRevoke(&priv.rp)
		klib.Kfree(regs)
	})
	s.Go(taskRead, func() {
		merged.REVOCABLE_TRY_ACCESS_WITH(k, filp.privateData, func(res *env.Object) {
			if res == nil {
				return // -ENODEV
			}
			res.Access("ec_cmd_xfer")
		})
	})
}

// drvsimFile is the struct file of the experiment on drvsim's design: the
// copied provider pointer, and a Consumer opened at open().
type drvsimFile struct {
	privateData *revocable.Provider[env.Object]
	c           *revocable.Consumer[env.Object]
}

// DrvsimCopiedProvider is the copied-pointer experiment on drvsim's own
// revocable, run under the Sim: open() stores the *Provider in the file's
// private data and also opens a Consumer; unbind revokes and frees the
// registers; the read creates a new Consumer from the copied pointer (it
// must either work or fail with ErrRevoked, never touch a released
// provider) and reads through the Consumer opened at open; then the file
// is released. The provider, refcounted, outlives the revoke for as long
// as the file's Consumer holds it: the read checks Refs and Released, and
// a leak check asserts it was released at the end.
func DrvsimCopiedProvider(s *sim.Sim) {
	regs := s.Alloc("ec_regs")
	p := revocable.NewProvider(s, regs, revocable.WithName("ec"))
	c, err := revocable.New(p)
	if err != nil {
		panic(fmt.Sprintf("revocable.New at open: %v", err))
	}
	filp := &drvsimFile{privateData: p, c: c}
	s.Go(taskUnbind, func() {
		p.Revoke()
		regs.Free()
	})
	s.Go(taskRead, func() {
		rp := filp.privateData // the copied pointer
		if c2, err := revocable.New(rp); err != nil {
			if !errors.Is(err, revocable.ErrRevoked) || !rp.Revoked() {
				panic(fmt.Sprintf("New on the copied provider: %v (revoked=%v)", err, rp.Revoked()))
			}
		} else {
			_ = c2.OrReturn(func(res *env.Object) error { res.Access("ec_cmd_xfer"); return nil })
			if err := c2.Close(); err != nil {
				panic(err)
			}
		}
		err := filp.c.OrReturn(func(res *env.Object) error { res.Access("ec_cmd_xfer"); return nil })
		if err != nil && !errors.Is(err, revocable.ErrRevoked) {
			panic(fmt.Sprintf("OrReturn after revoke: %v", err))
		}
		// The file still holds its Consumer: the provider is alive
		// (not released), whether or not it was revoked.
		if rp.Released() || rp.Refs() < 1 {
			panic(fmt.Sprintf("provider released under an open Consumer: refs=%d", rp.Refs()))
		}
		if err := filp.c.Close(); err != nil { // release()
			panic(err)
		}
	})
	s.AddLeakCheck("revocable", func() []string { return providerLeaks(p) })
}

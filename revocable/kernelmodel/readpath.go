package kernelmodel

import (
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

// ReadPath is what one read of the resource costs in a design, in its
// usual form, counted in a real run of the model: the writes every reader
// of the provider makes to one shared cache line (the provider's
// reference count), and the read sections it enters.
type ReadPath struct {
	// Design is the design's name: v3, merged, v8, v10 or drvsim.
	Design string
	// Form is the read, in the design's words.
	Form string
	// RefWrites is the number of writes to the provider's reference count
	// per read (kref_get, kref_get_unless_zero, kref_put; for drvsim,
	// changes of Provider.Refs): atomic operations on a line all readers
	// share, whatever CPU they run on.
	RefWrites int
	// SRCU is the number of SRCU read sections per read (srcu_read_lock;
	// for drvsim, the change of Provider.Readers inside the read). The
	// kernel's counters are per CPU, drvsim's per Consumer: no shared
	// line.
	SRCU int
	// RCU is the number of RCU read sections per read (a preempt-count
	// change, no shared write).
	RCU int
}

// ReadPaths measures the read path of each design, in lab order: one
// read in a sim run of its own, counted by the kernel model's primitives
// (klib.Counts) or, for drvsim, by the provider's reference and reader
// counts before, inside and after the read.
func ReadPaths() ([]ReadPath, error) {
	var out []ReadPath
	for _, m := range []struct {
		design, form string
		// setup builds the provider of regs and returns one read and the
		// teardown (revoke, release, free) that follows it.
		setup func(k *klib.Kernel, regs *env.Object) (read, teardown func())
	}{
		{"v3", "REVOCABLE(rev, res) on the file's handle", func(k *klib.Kernel, regs *env.Object) (func(), func()) {
			rp := v3.RevocableProviderAlloc(k, regs)
			rev := v3.RevocableAlloc(k, rp)
			return func() { v3.REVOCABLE(rev, func(*env.Object) {}) },
				func() { v3.RevocableProviderFree(rp); v3.RevocableFree(rev) }
		}},
		{"merged", "REVOCABLE_TRY_ACCESS_WITH(rp, res)", func(k *klib.Kernel, regs *env.Object) (func(), func()) {
			rp := merged.RevocableProviderAlloc(k, regs)
			return func() { merged.REVOCABLE_TRY_ACCESS_WITH(k, rp, func(*env.Object) {}) },
				func() { merged.RevocableProviderRevoke(&rp) }
		}},
		{"v8", "revocable_try_access_with(rp, res)", func(k *klib.Kernel, regs *env.Object) (func(), func()) {
			rp := v8.RevocableAlloc(k, regs)
			return func() { v8.RevocableTryAccessWith(rp, func(*env.Object) {}) },
				func() { v8.RevocableRevoke(rp); v8.RevocablePut(rp) }
		}},
		{"v10", "revocable_try_access_with(rev, res)", func(k *klib.Kernel, regs *env.Object) (func(), func()) {
			rev := v10.RevocableAlloc(k, regs)
			return func() { v10.RevocableTryAccessWith(rev, func(*env.Object) {}) },
				func() { v10.RevocableRevoke(rev); v10.RevocablePut(rev) }
		}},
	} {
		var c klib.Counts
		res := sim.Run(sim.Config{}, func(s *sim.Sim) {
			k := klib.New(s)
			regs := k.Kzalloc("ec_regs")
			read, teardown := m.setup(k, regs)
			s.Go("read", func() {
				before := k.Counts()
				read()
				c = k.Counts().Sub(before)
				teardown()
				klib.Kfree(regs)
			})
		})
		if res.Failed() {
			return nil, fmt.Errorf("read path of %s: %s", m.design, res.Failure.Title)
		}
		out = append(out, ReadPath{Design: m.design, Form: m.form, RefWrites: c.SharedWrites(), SRCU: c.SRCULock, RCU: c.RCULock})
	}
	rp, err := drvsimReadPath()
	if err != nil {
		return nil, err
	}
	return append(out, rp), nil
}

// drvsimReadPath measures Consumer.OrReturn on the file's Consumer.
func drvsimReadPath() (ReadPath, error) {
	var rp ReadPath
	var err error
	res := sim.Run(sim.Config{}, func(s *sim.Sim) {
		regs := s.Alloc("ec_regs")
		p := revocable.NewProvider(s, regs, revocable.WithName("ec"))
		c, e := revocable.New(p)
		if e != nil {
			err = e
			return
		}
		s.Go("read", func() {
			refs, readers := p.Refs(), p.Readers()
			var inRefs, inReaders int
			err = c.OrReturn(func(*env.Object) error {
				inRefs, inReaders = p.Refs(), p.Readers()
				return nil
			})
			rp = ReadPath{Design: "drvsim", Form: "Consumer.OrReturn on the file's Consumer",
				RefWrites: abs(inRefs-refs) + abs(p.Refs()-inRefs), SRCU: inReaders - readers}
			if e := c.Close(); e != nil && err == nil {
				err = e
			}
			p.Revoke()
			regs.Free()
		})
	})
	if res.Failed() {
		return rp, fmt.Errorf("read path of drvsim: %s", res.Failure.Title)
	}
	return rp, err
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

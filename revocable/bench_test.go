package revocable_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable"
)

// BenchmarkTryAccessRelease measures a read section, one Consumer per
// goroutine (so each goroutine counts on its own slot).
func BenchmarkTryAccessRelease(b *testing.B) {
	p := revocable.NewProvider(env.New(env.WithLockdep(false)), &regs{val: 1})
	b.RunParallel(func(pb *testing.PB) {
		c, err := revocable.New(p)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		for pb.Next() {
			r, a := c.TryAccess()
			if r == nil {
				b.Error("revoked")
			}
			a.Release()
		}
	})
	b.StopTimer()
	p.Revoke()
}

// BenchmarkTryAccessReleaseShared shares one Consumer among all goroutines
// (correct, but they share the slot's cache line).
func BenchmarkTryAccessReleaseShared(b *testing.B) {
	p := revocable.NewProvider(env.New(env.WithLockdep(false)), &regs{val: 1})
	c, _ := revocable.New(p)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r, a := c.TryAccess()
			if r == nil {
				b.Error("revoked")
			}
			a.Release()
		}
	})
	b.StopTimer()
	_ = c.Close()
	p.Revoke()
}

// BenchmarkOrReturn measures a scoped form (OrReturn; Scoped and OrSkip
// cost the same).
func BenchmarkOrReturn(b *testing.B) {
	p := revocable.NewProvider(env.New(env.WithLockdep(false)), &regs{val: 1})
	fn := func(r *regs) error { return nil }
	b.RunParallel(func(pb *testing.PB) {
		c, _ := revocable.New(p)
		defer c.Close()
		for pb.Next() {
			_ = c.OrReturn(fn)
		}
	})
	b.StopTimer()
	p.Revoke()
}

// BenchmarkRWMutexRLock is the baseline a driver would otherwise use: a
// shared RWMutex guarding the pointer.
func BenchmarkRWMutexRLock(b *testing.B) {
	var mu sync.RWMutex
	r := &regs{val: 1}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.RLock()
			if r == nil {
				b.Error("nil")
			}
			mu.RUnlock()
		}
	})
}

type paddedCounter struct {
	n atomic.Int64
	_ [120]byte
}

// BenchmarkAtomicAddSub is the floor: an atomic add and sub pair on a
// per-goroutine padded counter.
func BenchmarkAtomicAddSub(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		c := new(paddedCounter)
		for pb.Next() {
			c.n.Add(1)
			c.n.Add(-1)
		}
	})
}

// BenchmarkRevokeNoReaders measures NewProvider plus a Revoke that finds no
// reader: the grace period's fast path.
func BenchmarkRevokeNoReaders(b *testing.B) {
	r := &regs{}
	b.ReportAllocs()
	for b.Loop() {
		p := revocable.NewProvider(env.New(env.WithLockdep(false)), r)
		p.Revoke()
	}
}

// BenchmarkRevokeWithConsumer is the same with one idle consumer open, so
// the grace period scans a registered slot.
func BenchmarkRevokeWithConsumer(b *testing.B) {
	r := &regs{}
	for b.Loop() {
		p := revocable.NewProvider(env.New(env.WithLockdep(false)), r)
		c, _ := revocable.New(p)
		p.Revoke()
		_ = c.Close()
	}
}

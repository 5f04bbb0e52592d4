package kernelmodel_test

import (
	"sync/atomic"
	"testing"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/revocable/srcu"
)

// The read path of each design, on real goroutines. The models run only
// under the simulator, one task at a time; these are Go ports of their
// reads (ReadPaths counts the same operations in the models): each
// design's provider is a resource pointer, a reference count on a cache
// line of its own and an SRCU domain, and every goroutine reads on an SRCU
// slot of its own, as a kernel reader counts on its CPU's srcu_data. What
// differs is what the design adds to srcu_read_lock/unlock around the
// read: v3 stores the index in the file's handle (one handle per
// goroutine here, since a shared one is the flaw); the merged design's
// REVOCABLE_TRY_ACCESS_WITH takes a reference with kref_get_unless_zero
// (a compare-and-swap) and drops it; v8's and v10's
// revocable_try_access_with take one with kref_get and drop it; drvsim
// reads through a Consumer of its own (Consumer.OrReturn), with no reference
// taken. Compare each to drvsim in the same run (-cpu 1,2), in ns/op on a
// quiet machine, in cpu-ns/op on a busy one.

type benchRegs struct{ val int }

// portProvider is a provider of the kernel designs, for the ports.
type portProvider struct {
	res  atomic.Pointer[benchRegs]
	_    [56]byte
	kref atomic.Int64 // struct kref: the line every reader writes
	_    [56]byte
	dom  *srcu.Domain
}

func newPortProvider() *portProvider {
	p := &portProvider{dom: srcu.New(env.New(env.WithLockdep(false)), "rp->srcu")}
	p.res.Store(&benchRegs{val: 1})
	p.kref.Store(2)
	return p
}

// krefGetUnlessZero is kref_get_unless_zero.
func (p *portProvider) krefGetUnlessZero() bool {
	for {
		n := p.kref.Load()
		if n == 0 {
			return false
		}
		if p.kref.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// krefPut is kref_put; the provider is never released in the benchmark.
func (p *portProvider) krefPut() {
	if p.kref.Add(-1) == 0 {
		panic("released under a reader")
	}
}

// v3Handle is v3's struct revocable: the provider and the index.
type v3Handle struct {
	rp  *portProvider
	idx srcu.Guard
}

// runParallel is b.RunParallel(body), reporting besides ns/op (wall time)
// the process's CPU time per read, cpu-ns/op, which a machine shared with
// other jobs leaves comparable between designs measured in one run.
func runParallel(b *testing.B, body func(*testing.PB)) {
	b.Helper()
	before, ok := cpuTime()
	b.RunParallel(body)
	if after, _ := cpuTime(); ok {
		b.ReportMetric(float64(after-before)/float64(b.N), "cpu-ns/op")
	}
}

var sink atomic.Int64

func use(r *benchRegs) {
	if r == nil {
		sink.Add(1)
	}
}

func BenchmarkReadPath(b *testing.B) {
	b.Run("v3", func(b *testing.B) {
		p := newPortProvider()
		runParallel(b, func(pb *testing.PB) {
			slot := p.dom.NewSlot()
			defer slot.Close()
			h := &v3Handle{rp: p} // the goroutine's file's handle
			for pb.Next() {
				h.idx = slot.Lock() // revocable_try_access: rev->idx = srcu_read_lock
				use(h.rp.res.Load())
				h.idx.Unlock() // revocable_release
			}
		})
	})
	b.Run("merged", func(b *testing.B) {
		p := newPortProvider()
		runParallel(b, func(pb *testing.PB) {
			slot := p.dom.NewSlot()
			defer slot.Close()
			for pb.Next() {
				// revocable_init: rcu_read_lock (preempt_disable, nothing
				// shared), kref_get_unless_zero, rcu_read_unlock.
				if !p.krefGetUnlessZero() {
					continue
				}
				g := slot.Lock()
				use(p.res.Load())
				g.Unlock()
				p.krefPut() // revocable_deinit
			}
		})
	})
	for _, name := range []string{"v8", "v10"} {
		b.Run(name, func(b *testing.B) {
			p := newPortProvider()
			runParallel(b, func(pb *testing.PB) {
				slot := p.dom.NewSlot()
				defer slot.Close()
				for pb.Next() {
					p.kref.Add(1) // revocable_init / revocable_handle_init: kref_get
					g := slot.Lock()
					use(p.res.Load())
					g.Unlock()
					p.krefPut() // revocable_deinit / revocable_handle_deinit
				}
			})
		})
	}
	b.Run("drvsim", func(b *testing.B) {
		p := revocable.NewProvider(env.New(env.WithLockdep(false)), &benchRegs{val: 1})
		fn := func(r *benchRegs) error { use(r); return nil }
		runParallel(b, func(pb *testing.PB) {
			c, err := revocable.New(p)
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			for pb.Next() {
				_ = c.OrReturn(fn)
			}
		})
		b.StopTimer()
		p.Revoke()
	})
}

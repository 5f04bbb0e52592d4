package revocable

import (
	"fmt"
	"sync/atomic"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable/srcu"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Provider owns a revocable resource: the kernel's struct
// revocable_provider. It holds the resource pointer, the SRCU domain that
// protects it, and a reference count (1 for the provider itself plus 1 per
// open Consumer). Create providers with NewProvider or DevmProvider. A
// Provider is safe for concurrent use.
type Provider[T any] struct {
	res  atomic.Pointer[T]
	dom  *srcu.Domain
	name string
	e    *env.Env
	log  *trace.Log
	sch  sched.Scheduler

	refs     atomic.Int64
	revoker  atomic.Uint64 // the env.Owner of the task running the first Revoke
	revoked  atomic.Bool   // Revoke has begun: the resource is unpublished
	finished atomic.Bool   // Revoke has completed
	done     chan struct{} // closed when Revoke completes
	released atomic.Bool

	open *openConsumers // under a simulator: the consumers not closed
}

// NewProvider returns a provider of res holding its own reference:
// revocable_provider_alloc, in h's environment (a System, a device, a
// simulated run; nil: an untraced one of its own). The provider traces
// into that environment's log; under a simulator its read sections, revoke
// and grace period are schedule points; with lockdep on, a Revoke from
// inside one of its own read sections panics instead of deadlocking. res
// may be nil (a provider of nothing); nil options are ignored.
func NewProvider[T any](h env.Host, res *T, opts ...Option) *Provider[T] {
	o := options{name: "revocable"}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	e := env.Of(h)
	p := &Provider[T]{
		dom:  srcu.New(e, o.name),
		name: o.name,
		e:    e,
		log:  e.Log(),
		sch:  e.Scheduler(),
		done: make(chan struct{}),
	}
	p.res.Store(res)
	p.refs.Store(1)
	if e.Simulated() {
		p.open = &openConsumers{}
		e.AddLeakCheck(env.LeakRevocable, p.leaks)
	}
	p.emit(trace.Revocable, "revocable_provider_alloc", "refs=1")
	return p
}

// Env returns the environment the provider lives in (it makes a Provider
// an env.Host).
func (p *Provider[T]) Env() *env.Env { return p.e }

// Name returns the provider's name (WithName).
func (p *Provider[T]) Name() string { return p.name }

// Refs returns the provider's reference count: 1 for the provider until it
// is revoked, plus 1 per open Consumer. It is 0 once released.
func (p *Provider[T]) Refs() int { return int(p.refs.Load()) }

// Revoked reports whether Revoke has been called: the resource is no longer
// handed out (although readers already inside may still be using it until
// Revoke returns).
func (p *Provider[T]) Revoked() bool { return p.revoked.Load() }

// Released reports whether the last reference was dropped:
// revocable_provider_release ran, and in the kernel the provider's memory
// would now be freed.
func (p *Provider[T]) Released() bool { return p.released.Load() }

// Readers returns the number of read sections currently open on the
// provider, over all its consumers.
func (p *Provider[T]) Readers() int { return p.dom.Readers() }

// Revoke withdraws the resource: revocable_provider_free in the v3 seed,
// revocable_provider_revoke in the merged form. It publishes nil, so every
// TryAccess from then on sees nil, waits for a grace period (synchronize_srcu)
// so that every reader that saw the resource has released it, and drops the
// provider's own reference, releasing the provider if no Consumer is open.
// When Revoke returns the caller may free or poison the resource.
//
// Revoke is idempotent and safe from many goroutines: every caller returns
// only after the first call's grace period has completed. Calling it from
// inside a read section of the same provider deadlocks, as in the kernel;
// with lockdep on in its environment it panics instead, naming the
// provider.
// Under a scheduler the first call's schedule point "revocable_provider_revoke"
// comes after nil is published and before the grace period starts, so that
// no reader can get the resource once the "start" event is in the trace.
func (p *Provider[T]) Revoke() {
	if n, who := p.dom.HeldBy(); n > 0 {
		panic(fmt.Sprintf("revocable: Revoke of provider %q from inside a read section of the same provider (%s holds %d) would deadlock: synchronize_srcu inside srcu_read_lock", p.name, who, n))
	}
	if !p.revoked.CompareAndSwap(false, true) {
		p.waitRevoked()
		return
	}
	p.revoker.Store(uint64(p.e.Self()))
	// The start event marks the publication: nothing may run between
	// them, so that a reader traced after "start" always sees nil (a
	// caller such as drm_dev_unplug traces "unplugged" just before).
	p.emit(trace.Revoke, "revocable_provider_revoke", "start")
	p.res.Store(nil)
	if p.sch != nil {
		// Between rcu_assign_pointer(res, NULL) and synchronize_srcu: a
		// reader arriving here sees nil and is not waited for.
		p.sch.Yield(sched.Point{Kind: "revoke", Func: "revocable_provider_revoke", Obj: p.name})
	}
	p.dom.Synchronize()
	p.emit(trace.Revoke, "revocable_provider_revoke", "grace period done")
	p.put("")
	p.finished.Store(true)
	close(p.done)
}

// waitRevoked waits for a concurrent Revoke to complete.
func (p *Provider[T]) waitRevoked() {
	if p.finished.Load() {
		return
	}
	if p.sch != nil {
		p.sch.Block(sched.Wait{What: "revocable_provider_revoke " + p.name}, p.finished.Load)
		return
	}
	wt := p.e.Watch(env.Watched{What: "revocable_provider_revoke", Obj: p.name + " (waiting for the first revoke)",
		Holders: func() ([]env.Owner, string) {
			if o := p.revoker.Load(); o != 0 {
				return []env.Owner{env.Owner(o)}, ""
			}
			return nil, ""
		}})
	defer wt.Done()
	<-p.done
}

// get takes a reference unless the count is zero: kref_get_unless_zero.
func (p *Provider[T]) get() bool {
	for {
		n := p.refs.Load()
		if n <= 0 {
			return false
		}
		if p.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// put drops a reference, recording fn (if not empty) with the new count,
// and releases the provider when it was the last: kref_put.
func (p *Provider[T]) put(fn string) {
	n := p.refs.Add(-1)
	if fn != "" {
		p.emit(trace.Revocable, fn, fmt.Sprintf("refs=%d", n))
	}
	switch {
	case n == 0:
		p.release()
	case n < 0:
		panic(fmt.Sprintf("revocable: provider %q reference count went negative", p.name))
	}
}

// release models revocable_provider_release: cleanup_srcu_struct, then the
// provider's memory is freed.
func (p *Provider[T]) release() {
	p.released.Store(true)
	if n := p.dom.Readers(); n != 0 {
		p.emit(trace.Warn, "cleanup_srcu_struct", fmt.Sprintf("%d read sections still open", n))
	}
	p.emit(trace.Revocable, "revocable_provider_release", "released")
}

func (p *Provider[T]) emit(kind trace.Kind, fn, msg string) {
	if p.log != nil {
		p.log.Emit(trace.Event{Kind: kind, Dev: p.name, Func: fn, Msg: msg})
	}
}

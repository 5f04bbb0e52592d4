package revocable

import (
	"fmt"
	"sync/atomic"

	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable/srcu"
	"github.com/drvsim/drvsim/trace"
)

// Consumer is a handle on a provider's resource: the kernel's struct
// revocable. It holds one reference on the provider, so the provider cannot
// be released while the Consumer is open, and owns one SRCU reader slot.
//
// A Consumer is safe for concurrent use: the read index lives in each
// Access, not in the Consumer, so goroutines sharing one handle cannot
// unbalance a grace period (the flaw that got the kernel's version
// reverted). Goroutines that access often do better with a Consumer each,
// so that they do not share the slot's cache line.
type Consumer[T any] struct {
	res    *atomic.Pointer[T] // &p.res, one load fewer on the fast path
	slot   *srcu.Slot
	p      *Provider[T]
	closed atomic.Bool
}

// Env returns the environment of the consumer's provider (it makes a
// Consumer an env.Host): what a file's operations run in.
func (c *Consumer[T]) Env() *env.Env { return c.p.e }

// New returns a consumer handle on p, taking a reference on it:
// revocable_alloc in the v3 seed, revocable_init in the merged form. It fails
// with an error wrapping ErrRevoked when p is nil, revoked or released (the
// kernel's kref_get_unless_zero failing, -ENODEV).
func New[T any](p *Provider[T]) (*Consumer[T], error) {
	if p == nil {
		return nil, fmt.Errorf("revocable_init: no provider: %w", ErrRevoked)
	}
	if !p.get() {
		return nil, fmt.Errorf("revocable_init %s: provider released: %w", p.name, ErrRevoked)
	}
	if p.revoked.Load() {
		p.put("")
		return nil, fmt.Errorf("revocable_init %s: provider revoked: %w", p.name, ErrRevoked)
	}
	c := &Consumer[T]{res: &p.res, slot: p.dom.NewSlot(), p: p}
	if p.open != nil {
		p.open.add(c, p.e.Origin(0))
	}
	c.slot.SetClosedPanic("revocable: TryAccess on a closed Consumer of provider " + p.name)
	p.emit(trace.Revocable, "revocable_init", fmt.Sprintf("refs=%d", p.refs.Load()))
	return c, nil
}

// Provider returns the provider the consumer was created on.
func (c *Consumer[T]) Provider() *Provider[T] { return c.p }

// TryAccess enters a read section and returns the resource, or nil when the
// provider has been revoked: revocable_try_access. The section is entered
// either way; Release the returned Access in both cases, as in the kernel.
// While the section is open a concurrent Revoke waits, so a non-nil
// resource stays valid until Release. It takes no lock and allocates
// nothing (unless WithLockdep is on).
//
// TryAccess on a closed Consumer panics (a use-after-free in the kernel);
// the scoped forms (Scoped, OrSkip, OrReturn) return ErrClosed instead.
func (c *Consumer[T]) TryAccess() (*T, Access) {
	g := c.slot.Lock() // panics on a closed Consumer: see New
	return c.res.Load(), Access{g}
}

// The scoped forms below run fn inside a read section and leave it on
// every exit path, a panic in fn included (the panic continues after the
// release): the kernel's cleanup-based macros, each of which builds the
// access, runs a block and withdraws the access when the block is left.
// They differ in what happens once the provider is revoked. On a closed
// Consumer none of them calls fn: they return an error wrapping
// ErrClosed; for a nil fn, one wrapping devres.ErrInvalid, without
// entering a section.

// Scoped runs fn with the resource, or with nil once the provider has been
// revoked: the merged form's REVOCABLE_TRY_ACCESS_SCOPED() (and
// REVOCABLE_TRY_ACCESS_WITH(), the same without the explicit block;
// revocable_try_access_with_scoped() in v8). fn always runs and must check
// the resource for nil before using it. It returns fn's error.
func (c *Consumer[T]) Scoped(fn func(res *T) error) error {
	if fn == nil {
		return fmt.Errorf("revocable_try_access %s: nil function: %w", c.p.name, devres.ErrInvalid)
	}
	g, ok := c.slot.TryLock()
	if !ok {
		return fmt.Errorf("revocable_try_access %s: %w", c.p.name, ErrClosed)
	}
	defer g.Unlock()
	return fn(c.res.Load())
}

// OrSkip runs fn with the resource, and skips it once the provider has
// been revoked: v8's revocable_try_access_or_skip_scoped(), the form the
// kernel's chardev conversions use for a best-effort step. It returns
// fn's error, or nil when fn was skipped (the macro has no result: the
// block simply does not run).
func (c *Consumer[T]) OrSkip(fn func(res *T) error) error {
	if fn == nil {
		return fmt.Errorf("revocable_try_access %s: nil function: %w", c.p.name, devres.ErrInvalid)
	}
	g, ok := c.slot.TryLock()
	if !ok {
		return fmt.Errorf("revocable_try_access %s: %w", c.p.name, ErrClosed)
	}
	defer g.Unlock()
	res := c.res.Load()
	if res == nil {
		return nil
	}
	return fn(res)
}

// OrReturn runs fn with the resource, and once the provider has been
// revoked returns an error wrapping ErrRevoked (the kernel's -ENODEV)
// without calling fn: v8's revocable_try_access_or_return() and
// revocable_try_access_or_return_scoped(). Otherwise it returns fn's
// error.
func (c *Consumer[T]) OrReturn(fn func(res *T) error) error {
	if fn == nil {
		return fmt.Errorf("revocable_try_access %s: nil function: %w", c.p.name, devres.ErrInvalid)
	}
	g, ok := c.slot.TryLock()
	if !ok {
		return fmt.Errorf("revocable_try_access %s: %w", c.p.name, ErrClosed)
	}
	defer g.Unlock()
	res := c.res.Load()
	if res == nil {
		return fmt.Errorf("revocable_try_access %s: %w", c.p.name, ErrRevoked)
	}
	return fn(res)
}

// Close drops the consumer's reference on the provider, releasing it if it
// was the last: revocable_free in the v3 seed, revocable_deinit in the
// merged form. A second Close returns an error wrapping ErrClosed. Closing
// while Accesses are still open is a bug (a trace.Warn event records it);
// those Accesses stay valid and grace periods keep waiting for them.
func (c *Consumer[T]) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return fmt.Errorf("revocable_deinit %s: %w", c.p.name, ErrClosed)
	}
	if c.slot.Close() {
		c.p.emit(trace.Warn, "revocable_deinit", "consumer closed inside a read section")
	}
	if c.p.open != nil {
		c.p.open.remove(c)
	}
	c.p.put("revocable_deinit")
	return nil
}

// Closed reports whether Close was called.
func (c *Consumer[T]) Closed() bool { return c.closed.Load() }

package kernelmodel_test

import (
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/revocable/kernelmodel/merged"
	v3 "github.com/drvsim/drvsim/revocable/kernelmodel/v3"
	"github.com/drvsim/drvsim/sim"
)

// design adapts one revocable design to the upstream KUnit cases
// (drivers/base/revocable_test.c), so the same table runs on the v3 model,
// the merged model and drvsim's revocable.
type design interface {
	name() string
	// alloc sets up a provider of res (revocable_provider_alloc).
	alloc(s *sim.Sim, k *klib.Kernel, res *env.Object) provider
}

// provider is one design's provider side, plus the consumer entry points
// that take a provider.
type provider interface {
	// init sets up a consumer: revocable_init (v3: revocable_alloc,
	// drvsim: revocable.New).
	init() (consumer, error)
	// initNull is init on a NULL provider.
	initNull() error
	// initReleasing is init on a provider whose count has dropped to zero.
	initReleasing() error
	// revoke withdraws the resource: revocable_provider_revoke(&rp) (v3:
	// revocable_provider_free, drvsim: Revoke).
	revoke()
	// revoking reports whether a revoke has unpublished the resource.
	revoking() bool
	// with runs body with the resource, nil when gone:
	// REVOCABLE_TRY_ACCESS_WITH (v3: REVOCABLE, drvsim: New + Scoped).
	with(body func(res *env.Object))
	// scoped is REVOCABLE_TRY_ACCESS_SCOPED (v3: REVOCABLE, drvsim: New +
	// Scoped); body runs even when the resource is gone.
	scoped(body func(res *env.Object))
	// cleanup drops what the adapter itself holds.
	cleanup()
}

// consumer is one design's consumer handle.
type consumer interface {
	tryAccess() *env.Object // revocable_try_access
	withdraw()              // revocable_withdraw_access (v3: revocable_release)
	deinit()                // revocable_deinit (v3: revocable_free)
}

var designs = []design{v3Design{}, mergedDesign{}, drvsimDesign{}}

// --- v3 ---

type v3Design struct{}

func (v3Design) name() string { return "v3" }

func (v3Design) alloc(_ *sim.Sim, k *klib.Kernel, res *env.Object) provider {
	return &v3Provider{k: k, rp: v3.RevocableProviderAlloc(k, res)}
}

// v3Provider: the v3 macro REVOCABLE works on a handle, so the adapter
// keeps one (allocated on first use, like a file's handle at open).
type v3Provider struct {
	k    *klib.Kernel
	rp   *v3.RevocableProvider
	held *v3.Revocable
}

func (p *v3Provider) init() (consumer, error) {
	return v3Consumer{v3.RevocableAlloc(p.k, p.rp)}, nil
}

func (p *v3Provider) initNull() error {
	v3.RevocableAlloc(p.k, nil) // v3 has no NULL check
	return nil
}

func (p *v3Provider) initReleasing() error {
	p.rp.Kref().Set(0)
	v3.RevocableAlloc(p.k, p.rp) // kref_get on 0: a refcount_t warning, no failure
	return nil
}

func (p *v3Provider) revoke()        { v3.RevocableProviderFree(p.rp) }
func (p *v3Provider) revoking() bool { return p.rp.Res() == nil }

func (p *v3Provider) with(body func(*env.Object)) {
	if p.held == nil {
		p.held = v3.RevocableAlloc(p.k, p.rp)
	}
	v3.REVOCABLE(p.held, body)
}

func (p *v3Provider) scoped(body func(*env.Object)) { p.with(body) }

func (p *v3Provider) cleanup() {
	if p.held != nil {
		v3.RevocableFree(p.held)
	}
}

type v3Consumer struct{ rev *v3.Revocable }

func (c v3Consumer) tryAccess() *env.Object { return v3.RevocableTryAccess(c.rev) }
func (c v3Consumer) withdraw()              { v3.RevocableRelease(c.rev) }
func (c v3Consumer) deinit()                { v3.RevocableFree(c.rev) }

// --- merged ---

type mergedDesign struct{}

func (mergedDesign) name() string { return "merged" }

func (mergedDesign) alloc(_ *sim.Sim, k *klib.Kernel, res *env.Object) provider {
	return &mergedProvider{k: k, rp: merged.RevocableProviderAlloc(k, res)}
}

type mergedProvider struct {
	k  *klib.Kernel
	rp merged.ProviderPtr
}

func (p *mergedProvider) init() (consumer, error) {
	rev := merged.NewRevocable()
	if err := merged.RevocableInit(p.k, p.rp, &rev); err != nil {
		return nil, err
	}
	return &mergedConsumer{rev: rev}, nil
}

func (p *mergedProvider) initNull() error {
	rev := merged.NewRevocable()
	return merged.RevocableInit(p.k, merged.ProviderPtr{}, &rev)
}

// initReleasing does what the KUnit test does: refcount_set(.., 0), init,
// refcount_set(.., 1).
func (p *mergedProvider) initReleasing() error {
	kref := p.rp.Provider().Kref()
	kref.Set(0)
	rev := merged.NewRevocable()
	err := merged.RevocableInit(p.k, p.rp, &rev)
	kref.Set(1)
	return err
}

func (p *mergedProvider) revoke() {
	merged.RevocableProviderRevoke(&p.rp)
	if !p.rp.IsNull() { // KUNIT_EXPECT_PTR_EQ(test, unrcu_pointer(rp), NULL)
		panic("revocable_provider_revoke left *rp_ptr non-NULL")
	}
}

func (p *mergedProvider) revoking() bool { return p.rp.IsNull() }

func (p *mergedProvider) with(body func(*env.Object)) {
	merged.REVOCABLE_TRY_ACCESS_WITH(p.k, p.rp, body)
}

func (p *mergedProvider) scoped(body func(*env.Object)) {
	merged.REVOCABLE_TRY_ACCESS_SCOPED(p.k, p.rp, body)
}

func (p *mergedProvider) cleanup() {}

type mergedConsumer struct{ rev merged.Revocable }

func (c *mergedConsumer) tryAccess() *env.Object { return merged.RevocableTryAccess(&c.rev) }
func (c *mergedConsumer) withdraw()              { merged.RevocableWithdrawAccess(&c.rev) }
func (c *mergedConsumer) deinit()                { merged.RevocableDeinit(&c.rev) }

// --- drvsim ---

type drvsimDesign struct{}

func (drvsimDesign) name() string { return "drvsim" }

func (drvsimDesign) alloc(s *sim.Sim, _ *klib.Kernel, res *env.Object) provider {
	return &drvsimProvider{s: s, p: newDrvsimProvider(s, res)}
}

func newDrvsimProvider(s *sim.Sim, res *env.Object) *revocable.Provider[env.Object] {
	return revocable.NewProvider(s, res, revocable.WithName("ec"))
}

type drvsimProvider struct {
	s *sim.Sim
	p *revocable.Provider[env.Object]
}

func (p *drvsimProvider) init() (consumer, error) {
	c, err := revocable.New(p.p)
	if err != nil {
		return nil, err
	}
	return &drvsimConsumer{c: c}, nil
}

func (p *drvsimProvider) initNull() error {
	_, err := revocable.New[env.Object](nil)
	return err
}

// initReleasing: drvsim's provider is released atomically with its last
// reference, so the closest state is a provider whose count is zero: one
// revoked with no consumer open.
func (p *drvsimProvider) initReleasing() error {
	q := newDrvsimProvider(p.s, nil)
	q.Revoke()
	if !q.Released() || q.Refs() != 0 {
		panic(fmt.Sprintf("provider not released: refs=%d", q.Refs()))
	}
	_, err := revocable.New(q)
	return err
}

func (p *drvsimProvider) revoke()        { p.p.Revoke() }
func (p *drvsimProvider) revoking() bool { return p.p.Revoked() }

func (p *drvsimProvider) with(body func(*env.Object)) {
	c, err := revocable.New(p.p)
	if err != nil {
		body(nil)
		return
	}
	defer func() { _ = c.Close() }()
	_ = c.Scoped(func(res *env.Object) error { body(res); return nil })
}

func (p *drvsimProvider) scoped(body func(*env.Object)) { p.with(body) }
func (p *drvsimProvider) cleanup()                      {}

type drvsimConsumer struct {
	c *revocable.Consumer[env.Object]
	a revocable.Access
}

func (c *drvsimConsumer) tryAccess() *env.Object {
	res, a := c.c.TryAccess()
	c.a = a
	return res
}

func (c *drvsimConsumer) withdraw() { c.a.Release() }

func (c *drvsimConsumer) deinit() {
	if err := c.c.Close(); err != nil {
		panic(err)
	}
}

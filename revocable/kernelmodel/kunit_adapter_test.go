package kernelmodel_test

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

var designs = []design{v3Design{}, mergedDesign{}, v8Design{}, v10Design{}, drvsimDesign{}}

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

// --- v8 ---

// v8Design: revocable_alloc gives the adapter the creator's reference,
// which cleanup drops; init is revocable_init (an unconditional get), the
// macros build their own handle.
type v8Design struct{}

func (v8Design) name() string { return "v8" }

func (v8Design) alloc(_ *sim.Sim, k *klib.Kernel, res *env.Object) provider {
	return &v8Provider{rp: v8.RevocableAlloc(k, res)}
}

type v8Provider struct {
	rp      *v8.Revocable
	revoked bool
}

func (p *v8Provider) init() (consumer, error) {
	c := &v8Consumer{}
	v8.RevocableInit(p.rp, &c.rev)
	return c, nil
}

func (p *v8Provider) initNull() error {
	var rev v8.RevocableConsumer
	v8.RevocableInit(nil, &rev) // no NULL check: revocable_get(NULL)
	return nil
}

// initReleasing: revocable_init's kref_get on a zero count warns and
// succeeds; the adapter restores the count as the merged KUnit case does.
func (p *v8Provider) initReleasing() error {
	kref := p.rp.Kref()
	kref.Set(0)
	var rev v8.RevocableConsumer
	v8.RevocableInit(p.rp, &rev)
	kref.Set(2)
	return nil
}

func (p *v8Provider) revoke() {
	v8.RevocableRevoke(p.rp)
	p.revoked = true
}

func (p *v8Provider) revoking() bool { return p.revoked || p.rp.Res() == nil }

func (p *v8Provider) with(body func(*env.Object)) { v8.RevocableTryAccessWith(p.rp, body) }

func (p *v8Provider) scoped(body func(*env.Object)) { v8.RevocableTryAccessWith(p.rp, body) }

func (p *v8Provider) cleanup() { v8.RevocablePut(p.rp) }

type v8Consumer struct{ rev v8.RevocableConsumer }

func (c *v8Consumer) tryAccess() *env.Object { return v8.RevocableTryAccess(&c.rev) }
func (c *v8Consumer) withdraw()              { v8.RevocableWithdrawAccess(&c.rev) }
func (c *v8Consumer) deinit()                { v8.RevocableDeinit(&c.rev) }

// --- v10 ---

// v10Design is v8Design with v10's names (an allocated provider).
type v10Design struct{}

func (v10Design) name() string { return "v10" }

func (v10Design) alloc(_ *sim.Sim, k *klib.Kernel, res *env.Object) provider {
	return &v10Provider{rev: v10.RevocableAlloc(k, res)}
}

type v10Provider struct {
	rev     *v10.Revocable
	revoked bool
}

func (p *v10Provider) init() (consumer, error) {
	c := &v10Consumer{}
	v10.RevocableHandleInit(p.rev, &c.rh)
	return c, nil
}

func (p *v10Provider) initNull() error {
	var rh v10.RevocableHandle
	v10.RevocableHandleInit(nil, &rh)
	return nil
}

func (p *v10Provider) initReleasing() error {
	kref := p.rev.Kref()
	kref.Set(0)
	var rh v10.RevocableHandle
	v10.RevocableHandleInit(p.rev, &rh)
	kref.Set(2)
	return nil
}

func (p *v10Provider) revoke() {
	v10.RevocableRevoke(p.rev)
	p.revoked = true
}

func (p *v10Provider) revoking() bool { return p.revoked || p.rev.Res() == nil }

func (p *v10Provider) with(body func(*env.Object)) { v10.RevocableTryAccessWith(p.rev, body) }

func (p *v10Provider) scoped(body func(*env.Object)) { v10.RevocableTryAccessWith(p.rev, body) }

func (p *v10Provider) cleanup() { v10.RevocablePut(p.rev) }

type v10Consumer struct{ rh v10.RevocableHandle }

func (c *v10Consumer) tryAccess() *env.Object { return v10.RevocableTryAccess(&c.rh) }
func (c *v10Consumer) withdraw()              { v10.RevocableWithdrawAccess(&c.rh) }
func (c *v10Consumer) deinit()                { v10.RevocableHandleDeinit(&c.rh) }

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

package kernelmodel_test

import (
	"fmt"
	"testing"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable/kernelmodel/klib"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kunit is one KUnit case's context, inside a sim task.
type kunit struct {
	s    *sim.Sim
	p    provider
	regs *env.Object // the resource (real_res)
}

// expect fails the run (a panic in the task) unless ok.
func expect(ok bool, format string, args ...any) {
	if !ok {
		panic("KUNIT_EXPECT failed: " + fmt.Sprintf(format, args...))
	}
}

// kunitCase is one case of drivers/base/revocable_test.c. want maps a
// design to a substring of the failure title its model is expected to
// produce instead of passing; absent means the case passes.
type kunitCase struct {
	name string
	run  func(k *kunit)
	want map[string]string
}

var kunitCases = []kunitCase{
	{name: "basic", run: func(k *kunit) {
		c, err := k.p.init()
		expect(err == nil, "init: %v", err)
		expect(c.tryAccess() == k.regs, "res == real_res")
		c.withdraw()
		c.deinit()
		k.p.revoke()
	}},
	{name: "revocation", run: func(k *kunit) {
		c, err := k.p.init()
		expect(err == nil, "init: %v", err)
		expect(c.tryAccess() == k.regs, "res == real_res")
		c.withdraw()
		k.p.revoke()
		expect(c.tryAccess() == nil, "res == NULL after revoke")
		c.withdraw()
		c.deinit()
	}},
	{name: "try_access_macro", run: func(k *kunit) {
		k.p.with(func(res *env.Object) { expect(res == k.regs, "res == real_res") })
		k.p.revoke()
		k.p.with(func(res *env.Object) { expect(res == nil, "res == NULL after revoke") })
	}},
	{name: "try_access_macro2", run: func(k *kunit) {
		accessed := false
		k.p.scoped(func(res *env.Object) { expect(res == k.regs, "res == real_res"); accessed = true })
		expect(accessed, "body ran")
		k.p.revoke()
		accessed = false
		k.p.scoped(func(res *env.Object) { expect(res == nil, "res == NULL after revoke"); accessed = true })
		expect(accessed, "body ran after revoke")
	}},
	{name: "init_null_provider", run: func(k *kunit) {
		expect(k.p.initNull() != nil, "init on a NULL provider must fail")
		k.p.revoke()
	}, want: map[string]string{"v3": "nil pointer dereference"}},
	{name: "init_releasing_provider", run: func(k *kunit) {
		expect(k.p.initReleasing() != nil, "init on a releasing provider must fail")
		k.p.revoke()
	}, want: map[string]string{"v3": "init on a releasing provider must fail"}},
	{name: "init_revoked_provider", run: func(k *kunit) {
		k.p.revoke()
		_, err := k.p.init()
		expect(err != nil, "init on a revoked provider must fail")
	}, want: map[string]string{"v3": "KASAN: use-after-free in kref_get"}},
}

// runKUnit runs one case on one design in a sim run with a single task;
// the driver frees the resource once the case is over (after its revoke).
func runKUnit(t *testing.T, d design, run func(k *kunit)) *sim.Result {
	t.Helper()
	return sim.Run(sim.Config{Test: t.Name()}, func(s *sim.Sim) {
		kern := klib.New(s)
		regs := kern.Kzalloc("ec_regs")
		p := d.alloc(s, kern, regs)
		s.Go("kunit", func() {
			run(&kunit{s: s, p: p, regs: regs})
			p.cleanup()
			klib.Kfree(regs)
		})
	})
}

// TestKUnit runs the upstream KUnit cases on the three designs. The v3
// seed predates the init-failure cases: its revocable_alloc checks
// nothing, and the table records what its model does instead (an oops on
// NULL, a refcount_t warning and a success on a releasing provider, a
// use-after-free on a revoked and freed one).
func TestKUnit(t *testing.T) {
	for _, tc := range kunitCases {
		for _, d := range designs {
			t.Run(tc.name+"/"+d.name(), func(t *testing.T) {
				res := runKUnit(t, d, tc.run)
				want := tc.want[d.name()]
				if want == "" {
					require.False(t, res.Failed(), res.String())
					return
				}
				require.True(t, res.Failed(), "the %s model is expected to fail with %q", d.name(), want)
				assert.Contains(t, res.Failure.Title, want, res.String())
			})
		}
	}
}

// TestKUnitV3ReleasingWarns shows the v3 model's refcount_t warning when a
// handle is allocated on a provider whose count is zero.
func TestKUnitV3ReleasingWarns(t *testing.T) {
	res := runKUnit(t, v3Design{}, func(k *kunit) { _ = k.p.initReleasing() })
	assert.Contains(t, res.TraceText(), "WARNING: refcount_t: addition on 0; use-after-free")
}

// readerAcrossRevoke is the concurrent case: reader1 enters its section
// before the revoke; the revoke starts and must wait; reader2, entering
// after the revoke began, gets no resource; reader1 still uses it safely
// until it leaves; then the revoke completes and the driver frees the
// resource.
func readerAcrossRevoke(d design) func(s *sim.Sim) {
	return func(s *sim.Sim) {
		kern := klib.New(s)
		regs := kern.Kzalloc("ec_regs")
		p := d.alloc(s, kern, regs)
		inside, reader2Done, revoked := false, false, false
		s.Go("reader1", func() {
			c, err := p.init()
			expect(err == nil, "init: %v", err)
			expect(c.tryAccess() == regs, "res == real_res")
			inside = true
			s.Block(sched.Wait{What: "revoke started"}, p.revoking)
			regs.Access("read")
			s.Block(sched.Wait{What: "reader2 done"}, func() bool { return reader2Done })
			expect(!revoked, "revoke completed while a reader was inside")
			regs.Access("read")
			c.withdraw()
			c.deinit()
		})
		s.Go("reader2", func() {
			s.Block(sched.Wait{What: "revoke started"}, p.revoking)
			if c, err := p.init(); err == nil {
				expect(c.tryAccess() == nil, "res == NULL once the revoke began")
				c.withdraw()
				c.deinit()
			}
			reader2Done = true
		})
		s.Go("unbind", func() {
			s.Block(sched.Wait{What: "reader1 inside"}, func() bool { return inside })
			p.revoke()
			revoked = true
			p.cleanup()
			klib.Kfree(regs)
		})
	}
}

func TestKUnitReaderAcrossRevokeExhaustive(t *testing.T) {
	for _, d := range designs {
		t.Run(d.name(), func(t *testing.T) {
			res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive, Schedules: 100000,
				Config: sim.EnvConfig(t.Name(), 1)}, readerAcrossRevoke(d))
			require.False(t, res.Failed(), res.String())
			require.True(t, res.Exhausted)
			t.Logf("%s: %s", d.name(), res)
		})
	}
}

package sim_test

import (
	"errors"
	"testing"

	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/sim/toy"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFaultNthHit(t *testing.T) {
	var errs []error
	r := sim.Run(sim.Config{Faults: []sim.FaultRule{{Point: "x", Nth: 2}}}, toy.ProbeXY(&errs))
	require.False(t, r.Failed(), r.String())
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], sim.ErrInjected)
	assert.Equal(t, "sim: injected fault at x (hit 2)", errs[0].Error())
	assert.Equal(t, []sim.FaultHit{{Point: "x", Hits: 2}}, r.FaultHits)
	faults := trace.Filter(r.Events, trace.OfKind(trace.Fault))
	require.Len(t, faults, 1)
	assert.Equal(t, "[probe] should_fail: x hit 2: injected", faults[0].String()[5:])
}

func TestFaultProbabilityIsSeeded(t *testing.T) {
	count := func(seed uint64) []sim.FaultHit {
		r := sim.Run(sim.Config{Seed: seed, Faults: []sim.FaultRule{{Point: "*", Probability: 0.5}}}, func(s *sim.Sim) {
			s.Go("t", func() {
				for i := 0; i < 20; i++ {
					if s.Fault("p") != nil {
						_ = s.Fault("failed")
					}
				}
			})
		})
		return r.FaultHits
	}
	a := count(3)
	assert.Equal(t, a, count(3))
	require.Len(t, a, 2)
	assert.Equal(t, 20, a[0].Hits)
	assert.Greater(t, a[1].Hits, 2)
	assert.Less(t, a[1].Hits, 18)
}

func TestSweepFailsEachPointOnce(t *testing.T) {
	var errs []error
	sw := sim.SweepFaults(sim.Config{Test: t.Name()}, toy.ProbeXY(&errs))
	require.False(t, sw.Baseline.Failed())
	assert.Equal(t, []sim.FaultHit{{Point: "x", Hits: 2}, {Point: "y", Hits: 1}}, sw.Baseline.FaultHits)
	require.Len(t, sw.Runs, 3)
	assert.Len(t, errs, 3, "every run injected exactly one fault")
	for i, want := range []struct {
		point string
		hit   int
	}{{"x", 1}, {"x", 2}, {"y", 1}} {
		assert.Equal(t, want.point, sw.Runs[i].Point)
		assert.Equal(t, want.hit, sw.Runs[i].Hit)
	}
	fails := sw.Failures()
	require.Len(t, fails, 1, "only the y error path is buggy")
	assert.Equal(t, "y", fails[0].Point)
	assert.Equal(t, sim.BugLeak, fails[0].Result.Failure.Kind)
	assert.Contains(t, fails[0].Result.Failure.Details, "unreferenced object buf")
	assert.True(t, sw.Failed())
	assert.Contains(t, sw.String(), "  x hit 1: ok\n  x hit 2: ok\n  y hit 1: FAIL: BUG: leak: 1 leaked at the end of the run\n")
	t.Log("\n" + sw.String())
}

// TestDevresFaultPoint drives a real component through the seam: a devres
// list attached to the Sim consults sched.FaultDevresAdd on every Add, and
// yields per released action.
func TestDevresFaultPoint(t *testing.T) {
	var addErr error
	var released []string
	r := sim.Run(sim.Config{Faults: []sim.FaultRule{{Point: sched.FaultDevresAdd, Nth: 2}}}, func(s *sim.Sim) {
		l := devres.NewList("/sys/devices/platform/foo")
		l.Attach(s.Env())
		s.Go("probe", func() {
			_, err := l.Add("clk", func() { released = append(released, "clk") })
			require.NoError(t, err)
			_, addErr = l.AddOrReset("irq", func() { released = append(released, "irq") })
			l.ReleaseAll()
		})
	})
	require.False(t, r.Failed(), r.String())
	assert.ErrorIs(t, addErr, devres.ErrNoMemory)
	assert.Equal(t, []string{"irq", "clk"}, released)
	assert.Equal(t, []sim.FaultHit{{Point: sched.FaultDevresAdd, Hits: 2}}, r.FaultHits)
	var points []string
	for _, st := range r.Steps {
		points = append(points, st.Point.String())
	}
	assert.Contains(t, points, "devres devres_release_all clk")
	assert.True(t, errors.Is(addErr, devres.ErrNoMemory))
}

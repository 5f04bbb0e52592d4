package drvsim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// emit records n note events.
func emit(sys *drvsim.System, n int) {
	for range n {
		sys.Log().Emit(trace.Event{Kind: trace.Note, Func: "note"})
	}
}

// A default System keeps the newest DefaultTraceLimit events, numbered on;
// WithTraceLimit(0) keeps them all; a System on a simulator keeps the
// run's whole trace.
func TestDefaultTraceLimit(t *testing.T) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	emit(sys, drvsim.DefaultTraceLimit+10)
	evs := sys.Events()
	require.Len(t, evs, drvsim.DefaultTraceLimit)
	assert.Equal(t, sys.Log().Seq(), evs[len(evs)-1].Seq)
	assert.Equal(t, sys.Log().Seq()-drvsim.DefaultTraceLimit+1, evs[0].Seq)

	all := drvsim.NewSystem(drvsim.WithTraceLimit(0))
	defer all.Close()
	emit(all, drvsim.DefaultTraceLimit+10)
	assert.Len(t, all.Events(), int(all.Log().Seq()))

	var onSim *drvsim.System
	res := sim.Run(sim.Config{}, func(s *sim.Sim) {
		onSim = drvsim.NewSystem(drvsim.OnSim(s))
		emit(onSim, drvsim.DefaultTraceLimit+10)
	})
	defer onSim.Close()
	require.False(t, res.Failed(), res.String())
	assert.Len(t, onSim.Events(), int(onSim.Log().Seq()), "a simulated run's trace is whole")
}

// The hung-task detector's options reach the System's environment; a
// System on a simulator has none.
func TestHungTaskOptions(t *testing.T) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	assert.Equal(t, env.TestHungTaskTimeout, sys.Env().HungTaskTimeout())
	custom := drvsim.NewSystem(drvsim.WithHungTaskTimeout(3*time.Second), drvsim.WithHungTaskPanic(false))
	defer custom.Close()
	assert.Equal(t, 3*time.Second, custom.Env().HungTaskTimeout())
	off := drvsim.NewSystem(drvsim.WithHungTaskTimeout(0))
	defer off.Close()
	assert.Zero(t, off.Env().HungTaskTimeout())
	sim.Run(sim.Config{}, func(s *sim.Sim) {
		onSim := drvsim.NewSystem(drvsim.OnSim(s), drvsim.WithHungTaskTimeout(time.Second))
		defer onSim.Close()
		assert.Zero(t, onSim.Env().HungTaskTimeout())
	})
}

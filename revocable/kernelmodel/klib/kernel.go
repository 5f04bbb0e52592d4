package klib

import (
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// RCUKind is the trace kind of RCU events (read sections are not
// recorded; grace periods and kfree_rcu callbacks are).
const RCUKind trace.Kind = "rcu"

// Kernel is the state of one modelled kernel during one sim run: the Sim
// whose memory and scheduler the primitives use, and the global RCU
// state. Create one per run with New.
type Kernel struct {
	s   *sim.Sim
	rcu rcuState
}

// New returns a kernel model running on s.
func New(s *sim.Sim) *Kernel {
	return &Kernel{s: s, rcu: rcuState{readers: map[string]*rcuReader{}}}
}

// Sim returns the run the kernel model runs on.
func (k *Kernel) Sim() *sim.Sim { return k.s }

// Emit records an event on the run's trace.
func (k *Kernel) Emit(kind trace.Kind, fn, dev, msg string) {
	k.s.Log().Emit(trace.Event{Kind: kind, Func: fn, Dev: dev, Msg: msg})
}

// Warn records a WARN() splat on the run's trace (the kernel prints it and
// carries on).
func (k *Kernel) Warn(fn, msg string) { k.Emit(trace.Warn, fn, "", "WARNING: "+msg) }

// Package ksync holds the two sleeping primitives the simulated USB drivers
// need, written against the scheduler seam (package sched) so that the same
// driver code runs on plain goroutines and, unchanged, as simulated tasks
// under package sim:
//
//   - Mutex is the kernel's struct mutex (mutex_lock, mutex_unlock).
//   - WaitQueue is wait_queue_head_t with wait_event and wake_up_all.
//
// Both ask their Host for its scheduler at every call: when one is set
// (a controlled run) Lock and Wait are schedule points and wait through
// sched.Scheduler.Block; otherwise they wait on a sync.Cond. sim.Mutex only
// works inside a run; these work in both worlds.
package ksync

import (
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Host is where a primitive finds its trace log and its scheduler (nil
// outside a controlled run). *bus.Core and drvsim.System implement it, as
// device.Host.
type Host interface {
	Log() *trace.Log
	Scheduler() sched.Scheduler
}

func schedOf(h Host) sched.Scheduler {
	if h == nil {
		return nil
	}
	return h.Scheduler()
}

func logOf(h Host) *trace.Log {
	if h == nil {
		return nil
	}
	return h.Log()
}

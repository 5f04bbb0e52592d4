package klib

import (
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
)

// rcuState is the global RCU state of one kernel model.
type rcuState struct {
	next    uint64                // sequence number of the next outermost rcu_read_lock
	readers map[string]*rcuReader // by task
	gp      int                   // grace periods completed
}

// rcuReader is one task's read section: its nesting depth and the sequence
// number of its outermost rcu_read_lock.
type rcuReader struct {
	depth int
	seq   uint64
}

// RCUReadLock enters an RCU read section: rcu_read_lock. Sections nest. It
// is a schedule point inside the section (preemptible RCU).
func (k *Kernel) RCUReadLock() {
	t := k.s.Current()
	r := k.rcu.readers[t]
	if r == nil {
		r = &rcuReader{}
		k.rcu.readers[t] = r
	}
	if r.depth == 0 {
		r.seq = k.rcu.next
		k.rcu.next++
	}
	r.depth++
	k.count.RCULock++
	k.s.Yield(sched.Point{Kind: "rcu_read_lock"})
}

// RCUReadUnlock leaves an RCU read section: rcu_read_unlock. It is a
// schedule point after the section.
func (k *Kernel) RCUReadUnlock() {
	r := k.rcu.readers[k.s.Current()]
	if r == nil || r.depth == 0 {
		panic("rcu_read_unlock without rcu_read_lock")
	}
	r.depth--
	k.s.Yield(sched.Point{Kind: "rcu_read_unlock"})
}

// gpDone reports whether every reader whose section began before the
// snapshot has left it.
func (k *Kernel) gpDone(snap uint64) bool {
	for _, r := range k.rcu.readers {
		if r.depth > 0 && r.seq < snap {
			return false
		}
	}
	return true
}

// waitGP blocks until a grace period that began at snap has elapsed.
func (k *Kernel) waitGP(snap uint64, who string) {
	k.s.Block(sched.Wait{What: "rcu grace period (" + who + ")"}, func() bool { return k.gpDone(snap) })
	k.rcu.gp++
	k.Emit(RCUKind, "rcu_gp", "", fmt.Sprintf("grace period %d done (%s)", k.rcu.gp, who))
}

// SynchronizeRCU waits until every RCU read section that was open when it
// was called has closed: synchronize_rcu.
func (k *Kernel) SynchronizeRCU() {
	k.s.Yield(sched.Point{Kind: "synchronize_rcu"})
	k.waitGP(k.rcu.next, "synchronize_rcu")
}

// KfreeRCU frees obj after a grace period: kfree_rcu(ptr, rhf). It queues
// the free and starts a callback task, "rcu_kfree", that waits until
// every RCU reader present now has left its section and then kfrees obj.
// what names the call site for the trace (e.g.
// "revocable_provider_release").
func (k *Kernel) KfreeRCU(obj *env.Object, what string) {
	snap := k.rcu.next
	k.Emit(RCUKind, "kfree_rcu", "", fmt.Sprintf("%s queued by %s, freed after the next grace period", obj.Name(), what))
	k.s.Go("rcu_kfree", func() {
		k.waitGP(snap, "kfree_rcu "+obj.Name())
		Kfree(obj)
	})
}

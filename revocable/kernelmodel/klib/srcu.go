package klib

import (
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// SRCUStruct is struct srcu_struct (kernel/rcu/srcutree.c), embedded in a
// kmalloc'ed struct: srcu_idx, and one lock and one unlock counter per
// index. See the package documentation for what is modelled.
type SRCUStruct struct {
	k     *Kernel
	owner *env.Object
	name  string

	srcuIdx     int    // ssp->srcu_idx; the current index is srcuIdx&1
	lockCount   [2]int // srcu_lock_count[idx], summed over CPUs
	unlockCount [2]int // srcu_unlock_count[idx]
	gpSeq       int    // completed grace periods

	// Debug instrumentation (not in the kernel): per task, the locks
	// minus the unlocks it did on each index, in first-use order.
	tasks   []string
	balance map[string]*[2]int
}

// Init sets the domain up: init_srcu_struct. owner is the allocation the
// srcu_struct is embedded in; name (e.g. "rp->srcu") appears in traces and
// in the Wait a hung synchronize_srcu reports.
func (ssp *SRCUStruct) Init(k *Kernel, owner *env.Object, name string) {
	owner.Access("init_srcu_struct")
	*ssp = SRCUStruct{k: k, owner: owner, name: name, balance: map[string]*[2]int{}}
}

// Name returns the domain's name.
func (ssp *SRCUStruct) Name() string { return ssp.name }

// Index returns the current index, srcu_idx & 1.
func (ssp *SRCUStruct) Index() int { return ssp.srcuIdx & 1 }

// Counts returns the lock and unlock counters of index idx.
func (ssp *SRCUStruct) Counts(idx int) (locks, unlocks int) {
	return ssp.lockCount[idx&1], ssp.unlockCount[idx&1]
}

func (ssp *SRCUStruct) task() *[2]int {
	t := ssp.k.s.Current()
	b, ok := ssp.balance[t]
	if !ok {
		b = new([2]int)
		ssp.balance[t] = b
		ssp.tasks = append(ssp.tasks, t)
	}
	return b
}

// ReadLock enters a read section and returns its index: srcu_read_lock.
// The schedule point sits between loading srcu_idx and incrementing the
// lock counter, the window srcutree.c's two scans exist for.
func (ssp *SRCUStruct) ReadLock() int {
	ssp.owner.Access("srcu_read_lock")
	idx := ssp.srcuIdx & 1
	ssp.k.s.Yield(sched.Point{Kind: "srcu_read_lock", Obj: ssp.name})
	ssp.owner.Access("srcu_read_lock")
	ssp.k.count.SRCULock++
	ssp.lockCount[idx]++
	ssp.task()[idx]++
	ssp.k.Emit(trace.SRCU, "srcu_read_lock", ssp.name, fmt.Sprintf("idx %d (lock_count[%d]=%d)", idx, idx, ssp.lockCount[idx]))
	return idx
}

// ReadUnlock leaves a read section: srcu_read_unlock(ssp, idx). It counts
// the unlock on idx, whichever index the caller's section was counted on.
// When the calling task has no section counted on idx (its lock went to
// the other index) the model records a "wrong epoch" warning: the kernel
// would silently unbalance both indexes.
func (ssp *SRCUStruct) ReadUnlock(idx int) {
	ssp.owner.Access("srcu_read_unlock")
	idx &= 1
	b := ssp.task()
	if b[idx] <= 0 {
		ssp.k.Emit(trace.Warn, "srcu_read_unlock", ssp.name, fmt.Sprintf(
			"idx %d passed, but this task's read section was counted on idx %d: wrong epoch (lock_count[%d] will never be matched)",
			idx, idx^1, idx^1))
	}
	ssp.k.count.SRCUUnlock++
	ssp.unlockCount[idx]++
	b[idx]--
	ssp.k.Emit(trace.SRCU, "srcu_read_unlock", ssp.name, fmt.Sprintf("idx %d (unlock_count[%d]=%d)", idx, idx, ssp.unlockCount[idx]))
	ssp.k.s.Yield(sched.Point{Kind: "srcu_read_unlock", Obj: ssp.name})
}

// readersActive is srcu_readers_active_idx_check inverted: whether index
// idx still has more locks than unlocks.
func (ssp *SRCUStruct) readersActive(idx int) bool {
	return ssp.unlockCount[idx] != ssp.lockCount[idx]
}

// holder names the first task (in first-use order) with a lock on idx not
// matched by its own unlock, "" when none.
func (ssp *SRCUStruct) holder(idx int) string {
	for _, t := range ssp.tasks {
		if ssp.balance[t][idx] > 0 {
			return orSetup(t)
		}
	}
	return ""
}

// waitIdx blocks until index idx has no active reader: try_check_zero,
// retried until it succeeds (the kernel polls from a workqueue; here the
// scheduler re-evaluates the condition).
func (ssp *SRCUStruct) waitIdx(idx, scan int) {
	locks, unlocks := ssp.lockCount[idx], ssp.unlockCount[idx]
	w := sched.Wait{
		What:   fmt.Sprintf("synchronize_srcu %s (scan %d: idx %d has %d locks, %d unlocks)", ssp.name, scan, idx, locks, unlocks),
		Holder: func() string { return ssp.holder(idx) },
	}
	ssp.k.s.Block(w, func() bool { return !ssp.readersActive(idx) })
	ssp.owner.Access("synchronize_srcu")
}

// Synchronize waits for a grace period: synchronize_srcu. It waits until
// the index not in use has no active reader (scan 1), flips srcu_idx, and
// waits until the old index has none (scan 2).
func (ssp *SRCUStruct) Synchronize() {
	ssp.owner.Access("synchronize_srcu")
	ssp.k.s.Yield(sched.Point{Kind: "synchronize_srcu", Obj: ssp.name})
	gp := ssp.gpSeq + 1
	ssp.k.Emit(trace.SRCU, "synchronize_srcu", ssp.name, fmt.Sprintf("grace period %d start", gp))
	ssp.waitIdx(1^(ssp.srcuIdx&1), 1)
	ssp.srcuIdx++ // srcu_flip
	ssp.k.Emit(trace.SRCU, "srcu_flip", ssp.name, fmt.Sprintf("srcu_idx %d -> %d", (ssp.srcuIdx-1)&1, ssp.srcuIdx&1))
	ssp.waitIdx(1^(ssp.srcuIdx&1), 2)
	ssp.gpSeq = gp
	ssp.k.Emit(trace.SRCU, "synchronize_srcu", ssp.name, fmt.Sprintf("grace period %d done", gp))
}

// Cleanup tears the domain down: cleanup_srcu_struct, which WARNs when a
// read section is still active. It may sleep (it flushes the domain's
// delayed work), so in atomic context it is might_sleep's BUG.
func (ssp *SRCUStruct) Cleanup() {
	ssp.k.MightSleep("cleanup_srcu_struct")
	ssp.owner.Access("cleanup_srcu_struct")
	for idx := 0; idx < 2; idx++ {
		if ssp.readersActive(idx) {
			ssp.k.Warn("cleanup_srcu_struct", fmt.Sprintf("Active srcu_struct %s read state: idx %d has %d locks, %d unlocks",
				ssp.name, idx, ssp.lockCount[idx], ssp.unlockCount[idx]))
		}
	}
}

func orSetup(t string) string {
	if t == "" {
		return "<setup>"
	}
	return t
}

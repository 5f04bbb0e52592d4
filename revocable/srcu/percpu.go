package srcu

import (
	"math/bits"
	"runtime"
)

// maxPerCPUSlots bounds the slots behind one shared slot: readers on more
// Ps share them.
const maxPerCPUSlots = 64

// perCPU is what a shared slot (NewSharedSlot) stands for: one slot per P,
// the kernel's per-CPU struct srcu_data (ssp->sda), where srcu_read_lock
// increments the counter of the CPU it runs on. Each is a Slot registered
// with the domain, so Synchronize waits for the readers of every one of
// them exactly as for any other slot.
type perCPU struct {
	slots []Slot
	mask  int
}

// NewSharedSlot registers a reader slot meant to be shared by many
// goroutines that read at once (a device's own handle). Behind it are
// per-CPU slots, one per P of the Go scheduler (GOMAXPROCS when it is
// created, rounded up to a power of two, at most 64): Lock and TryLock
// count on the slot of the P the calling goroutine runs on, so readers on
// different Ps write different cache lines even though they share the
// Slot, where the readers of a slot from NewSlot all write its one line.
// The Guard remembers the per-CPU slot it counted on, so a goroutine moved
// to another P inside its section unlocks the counter it incremented.
// Close, Closed, Readers and SetClosedPanic apply to them all. A lock
// costs a few nanoseconds more than on a slot from NewSlot (finding the
// P), and the slot 128 bytes per P.
func (d *Domain) NewSharedSlot() *Slot {
	n := min(1<<bits.Len(uint(runtime.GOMAXPROCS(0)-1)), maxPerCPUSlots)
	pc := &perCPU{slots: make([]Slot, n), mask: n - 1}
	d.regMu.Lock()
	for i := range pc.slots {
		s := &pc.slots[i]
		s.d = d
		s.i = len(d.slots)
		d.slots = append(d.slots, s)
	}
	d.regMu.Unlock()
	return &Slot{d: d, pc: pc, i: -1}
}

// slot returns the per-CPU slot of the calling goroutine's P.
func (pc *perCPU) slot() *Slot { return &pc.slots[cpu()&pc.mask] }

func (pc *perCPU) setClosedPanic(msg string) {
	for i := range pc.slots {
		pc.slots[i].msg = msg
	}
}

// close closes every per-CPU slot and reports whether any was busy.
func (pc *perCPU) close() (busy bool) {
	for i := range pc.slots {
		if pc.slots[i].Close() {
			busy = true
		}
	}
	return busy
}

func (pc *perCPU) readers() int {
	n := 0
	for i := range pc.slots {
		n += pc.slots[i].Readers()
	}
	return n
}

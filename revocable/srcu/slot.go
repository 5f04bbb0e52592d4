package srcu

import (
	"fmt"
	"sync/atomic"

	"github.com/drvsim/drvsim/sched"
)

// Slot is one reader slot of a Domain: a pair of reader counters, one per
// epoch index, padded to 128 bytes so that no two slots share a cache line
// (nor an adjacent-line prefetch pair). It is the counterpart of one CPU's
// struct srcu_data in the kernel: there, readers on different CPUs count on
// different counters; here, each consumer owns its own Slot, or, when many
// goroutines read through one handle, a shared slot (NewSharedSlot) that
// stands for one counter pair per P.
//
// Slots are created by Domain.NewSlot and Domain.NewSharedSlot and must
// not be copied. A Slot may be used by many goroutines at once (those of a
// slot from NewSlot then share its cache line), since every Guard
// remembers the slot and index it incremented.
type Slot struct {
	cnt    [2]atomic.Int64 // open read sections per epoch index (+closedBias once closed)
	closed atomic.Bool
	d      *Domain
	pc     *perCPU // a shared slot (NewSharedSlot): the per-CPU slots it stands for
	i      int     // index in d.slots, -1 when unregistered; guarded by d.regMu
	msg    string  // Lock's panic value on a closed slot ("" for the default)
	_      [128 - 16 - 4 - 4 - 8 - 8 - 8 - 16]byte
}

// Guard is an open read section: the slot it was counted on and the epoch
// index it counted (the kernel's int returned by srcu_read_lock), packed
// with the holder's key when holders are tracked. It is a two-word value;
// copying it is fine, unlocking it twice is not. The zero Guard is not a
// read section.
type Guard struct {
	s *Slot
	v uint64 // bit 0: epoch index; bits 1..: lockdep holder key
}

// Zero reports whether g is the zero Guard (not returned by a lock).
func (g Guard) Zero() bool { return g.s == nil }

// Index returns the epoch index the section was counted on.
func (g Guard) Index() int { return int(g.v & 1) }

// Counter encoding. Close adds closedBias to both counters of a slot, so a
// lock on a closed slot learns it from the value its own increment returns,
// with no extra load; sums subtract the bias again. negBit is set in a
// counter that is negative (open slot) or below its bias (closed slot): an
// unbalanced unlock.
const (
	closedBias = int64(1) << 40
	negBit     = int64(1) << 39
)

// count returns the number of readers a raw counter value stands for.
func count(v int64) int64 {
	if v >= closedBias/2 {
		v -= closedBias
	}
	return v
}

// Lock enters a read section on the slot: srcu_read_lock. It takes no mutex
// and allocates nothing. It panics if the slot is closed (see
// SetClosedPanic). Its fast path is TryLock's.
func (s *Slot) Lock() Guard {
	if s.pc != nil {
		s = s.pc.slot()
	}
	d := s.d
	idx := d.cur.Load() & 1
	if n := s.cnt[idx].Add(1); n >= d.slowAt {
		g, ok := s.lockSlow(idx, n)
		if !ok {
			panicClosed(s)
		}
		return g
	}
	return Guard{s: s, v: uint64(idx)}
}

// SetClosedPanic sets the value Lock panics with on a closed slot, so that
// a user of the slot can report the misuse in its own terms. Call it before
// the slot is shared.
func (s *Slot) SetClosedPanic(msg string) {
	if s.pc != nil {
		s.pc.setClosedPanic(msg)
	}
	s.msg = msg
}

// TryLock is Lock that reports a closed slot by returning false (and no
// read section) instead of panicking.
//
// The fast path is one atomic load of the epoch, one atomic add and one
// compare of the value the add returned; a closed slot, a scheduler and
// lockdep all take one out-of-line slow path. Under a scheduler the
// schedule point "srcu_read_lock" therefore comes right after the counter
// is incremented: the task may be preempted inside its section.
func (s *Slot) TryLock() (Guard, bool) {
	if s.pc != nil {
		s = s.pc.slot()
	}
	d := s.d
	idx := d.cur.Load() & 1
	if n := s.cnt[idx].Add(1); n >= d.slowAt {
		return s.lockSlow(idx, n)
	}
	return Guard{s: s, v: uint64(idx)}, true
}

//go:noinline
func (s *Slot) lockSlow(idx uint32, n int64) (Guard, bool) {
	d := s.d
	if n >= closedBias/2 { // closed: back out
		s.cnt[idx].Add(-1)
		if d.writerWaiting.Load() {
			d.wakeWriter()
		}
		return Guard{}, false
	}
	g := Guard{s: s, v: uint64(idx)}
	if d.ld != nil {
		g.v |= d.ld.enter() << 1
	}
	if d.sch != nil {
		d.yield("srcu_read_lock")
	}
	return g, true
}

// Unlock leaves the read section: srcu_read_unlock with the index the lock
// returned. Unlocking a zero Guard, or a Guard whose counter is already at
// zero (a double or unbalanced unlock), panics; the counter is left intact.
// The fast path is one atomic add and one atomic load of the shared
// slow-unlock flag. Under a scheduler the schedule point "srcu_read_unlock"
// comes right after the counter is decremented.
func (g Guard) Unlock() {
	s := g.s
	if s == nil {
		panic(zeroGuardMsg)
	}
	if r := s.cnt[g.v&1].Add(-1); r&negBit != 0 || s.d.slowUnlock.Load() {
		s.unlockSlow(g, r)
	}
}

//go:noinline
func (s *Slot) unlockSlow(g Guard, r int64) {
	d := s.d
	if r&negBit != 0 {
		s.cnt[g.v&1].Add(1)
		panicUnbalanced(s, g.v&1)
	}
	if d.ld != nil {
		d.ld.exit(g.v >> 1)
	}
	if d.writerWaiting.Load() {
		d.wakeWriter()
	}
	if d.sch != nil {
		d.yield("srcu_read_unlock")
	}
}

// Close unregisters the slot from its domain; later locks on it panic
// (TryLock returns false). It reports busy when read sections were still
// open on the slot: their Guards stay valid, the domain keeps counting them
// until they unlock, and the slot is unregistered by a later Synchronize.
// Closing a closed slot does nothing and reports false.
func (s *Slot) Close() (busy bool) {
	if s.closed.Swap(true) {
		return false
	}
	if s.pc != nil {
		return s.pc.close()
	}
	// A lock whose increment precedes the bias on its counter is seen here
	// (busy); one that follows it sees the bias and backs out.
	a := s.cnt[0].Add(closedBias) - closedBias
	b := s.cnt[1].Add(closedBias) - closedBias
	busy = a != 0 || b != 0
	d := s.d
	d.regMu.Lock()
	if busy {
		d.reap = true
	} else {
		d.removeLocked(s)
	}
	d.regMu.Unlock()
	return busy
}

// Closed reports whether Close was called.
func (s *Slot) Closed() bool { return s.closed.Load() }

// Readers returns the number of read sections open on this slot.
func (s *Slot) Readers() int {
	if s.pc != nil {
		return s.pc.readers()
	}
	return int(count(s.cnt[0].Load()) + count(s.cnt[1].Load()))
}

// Domain returns the domain the slot belongs to.
func (s *Slot) Domain() *Domain { return s.d }

func (d *Domain) yield(kind string) {
	d.sch.Yield(sched.Point{Kind: kind, Func: kind, Obj: d.name})
}

const zeroGuardMsg = "srcu: srcu_read_unlock of a zero Guard (unlock without a matching lock)"

//go:noinline
func panicClosed(s *Slot) {
	if s.msg != "" {
		panic(s.msg)
	}
	panic(fmt.Sprintf("srcu: srcu_read_lock on a closed slot of domain %q", s.d.name))
}

//go:noinline
func panicUnbalanced(s *Slot, idx uint64) {
	panic(fmt.Sprintf("srcu: unbalanced srcu_read_unlock on domain %q (index %d): counter would go negative (double unlock?)", s.d.name, idx))
}

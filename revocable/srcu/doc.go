// Package srcu is drvsim's own sleepable-RCU-style grace-period primitive,
// the part of the kernel's SRCU (kernel/rcu/srcutree.c, include/linux/srcu.h)
// that the revocable mechanism needs: readers enter and leave read-side
// critical sections cheaply, and a writer waits, in Synchronize, until every
// reader that was inside when it started has left.
//
// # Design
//
// A Domain (the kernel's struct srcu_struct) has a current epoch index, 0 or
// 1. Readers do not share one counter: each consumer owns a Slot (in the
// kernel the per-CPU struct srcu_data), a padded pair of counters, one per
// epoch index, registered with the domain under a mutex when it is created
// and unregistered when it is closed. Readers on different slots therefore
// never write the same cache line; the only shared state they touch is the
// epoch index and a "slow unlock" flag, both read-mostly.
//
// A read lock (srcu_read_lock) loads the epoch index and increments its
// slot's counter for that index; it returns a Guard carrying the slot and the
// index, and the unlock (srcu_read_unlock) decrements that same counter. The
// read side takes no mutex and allocates nothing.
//
// Synchronize (synchronize_srcu), serialised among writers:
//
//  1. waits until the sum over all slots of the counters for the other index
//     is zero, draining stragglers that loaded the index before the previous
//     flip but incremented only after it;
//  2. flips the epoch index;
//  3. waits until the sum of the counters for the old index is zero.
//
// Go's atomics are sequentially consistent, which is what makes this
// correct: a reader whose increment the writer's scan missed incremented
// after the scan read its slot, so after everything the writer did before
// Synchronize (such as publishing nil), and it will see that.
//
// The wait uses no sleeping poll: the writer sets the shared flags, sums,
// and if the sum is not zero blocks on a one-element wake channel; an unlock
// that sees the flag does a non-blocking send. Because the writer stores the
// flag before it sums and the reader decrements before it loads the flag,
// one of them always sees the other: no wakeup is lost.
//
// The fast paths are: lock, one atomic load of the epoch, one atomic add,
// one compare of the value the add returned; unlock, one atomic add and one
// atomic load of the slow-unlock flag. Everything else (a closed slot, an
// unbalanced unlock, a waiting writer, a scheduler, lockdep) is found by
// those same compares and handled out of line. A closed slot is recognised
// by a large bias Close adds to its counters, so no separate load is needed.
//
// # Misuse
//
// An unlock that would drive its counter negative (an unbalanced or double
// unlock) restores the counter and panics; so does unlocking a zero Guard
// and read-locking a closed Slot. Calling Synchronize inside one's own read
// section deadlocks, as in the kernel; with WithLockdep (or under a
// scheduler) the domain records which goroutine or simulated task holds each
// section, on a slow path, and Synchronize panics instead. A double unlock
// is caught only when it would drive its slot's counter negative: another
// section open on the same slot and index hides it, as in the kernel.
//
// # Deterministic runs
//
// A Domain may carry a sched.Scheduler. When it does, read lock and unlock
// are schedule points (Kinds "srcu_read_lock" and "srcu_read_unlock", each
// right after its counter changes), writers queue and Synchronize waits with
// Scheduler.Block ("synchronize_srcu <name>") instead of a mutex and the
// channel; with no Scheduler the read side pays nothing for the seam (the
// slow-path thresholds already cover it). Grace periods are recorded as
// trace.SRCU events on an optional trace.Log; the read side records nothing.
package srcu

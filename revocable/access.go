package revocable

import "github.com/drvsim/drvsim/revocable/srcu"

// Access is an open read section, returned by Consumer.TryAccess: the
// counterpart of the SRCU index the kernel stored in struct revocable. It
// is a two-word value carrying the reader slot and the epoch index it
// counted on (and, with lockdep, the holder), so releasing it never depends
// on shared state; TryAccess and Release allocate nothing. Release it
// exactly once. The zero Access is not a read section.
type Access struct {
	g srcu.Guard
}

// Release leaves the read section: revocable_release in the v3 seed,
// revocable_withdraw_access in the merged form (srcu_read_unlock with the
// index the access carries). After Release the resource returned with the
// Access must not be used.
//
// Release of a zero Access (without TryAccess) panics; so does a double
// Release that would drive its slot's reader counter negative.
func (a Access) Release() {
	if a.g.Zero() {
		panic(zeroAccessMsg)
	}
	a.g.Unlock()
}

// Valid reports whether a is an Access returned by TryAccess (not the zero
// Access).
func (a Access) Valid() bool { return !a.g.Zero() }

const zeroAccessMsg = "revocable: Release of a zero Access (Release without TryAccess)"

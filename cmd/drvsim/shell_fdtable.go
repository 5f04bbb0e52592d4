package main

import "math/bits"

// fdTable is a process's file table: descriptors first to max-1, each
// holding a T, the lowest free one given out first, as the kernel's
// alloc_fd does. Like the kernel's fdtable it finds that descriptor in a
// bitmap of the descriptors in use (open_fds) with a second level, one
// bit per word of it that is full (full_fds_bits): the lowest free
// descriptor is at the first zero bit of the first word that is not full,
// two word scans whatever the table holds. Allocation and release are
// O(1) for the tables it allows (max at most 64*64). The zero value is
// not usable: call init.
type fdTable[T any] struct {
	first, max int
	open       []uint64 // bit fd%64 of word fd/64: fd is in use
	fullWords  uint64   // bit i: open[i] is all ones (full_fds_bits)
	allFull    uint64   // the value of fullWords when every word is full
	files      []T      // by descriptor, grown as the highest one rises
	n          int      // descriptors in use from first on
}

// init empties the table for descriptors first to max-1 (0 < first <
// max <= 4096); the ones below first are taken for good (standard input,
// output and error), and so are the bits past max in the last word.
func (t *fdTable[T]) init(first, max int) {
	if first < 0 || first >= max || max > 64*64 {
		panic("fdTable: bad bounds")
	}
	words := (max + 63) / 64
	*t = fdTable[T]{first: first, max: max, open: make([]uint64, words), allFull: 1<<words - 1}
	if words == 64 {
		t.allFull = ^uint64(0)
	}
	for fd := 0; fd < first; fd++ {
		t.set(fd)
	}
	for fd := max; fd < words*64; fd++ {
		t.set(fd)
	}
}

func (t *fdTable[T]) set(fd int) {
	w := fd / 64
	t.open[w] |= 1 << (fd % 64)
	if t.open[w] == ^uint64(0) {
		t.fullWords |= 1 << w
	}
}

// full reports whether every descriptor is in use: open(2) would fail
// with -EMFILE.
func (t *fdTable[T]) full() bool { return t.fullWords == t.allFull }

// len returns how many descriptors are in use.
func (t *fdTable[T]) len() int { return t.n }

// alloc stores v at the lowest free descriptor and returns it. The table
// must not be full.
func (t *fdTable[T]) alloc(v T) int {
	w := bits.TrailingZeros64(^t.fullWords)
	fd := w*64 + bits.TrailingZeros64(^t.open[w])
	t.set(fd)
	for len(t.files) <= fd {
		var zero T
		t.files = append(t.files, zero)
	}
	t.files[fd] = v
	t.n++
	return fd
}

// inUse reports whether fd is a descriptor of the table in use.
func (t *fdTable[T]) inUse(fd int) bool {
	return fd >= t.first && fd < t.max && t.open[fd/64]&(1<<(fd%64)) != 0
}

// get returns what fd holds, the zero T when fd is not in use.
func (t *fdTable[T]) get(fd int) T {
	var zero T
	if !t.inUse(fd) {
		return zero
	}
	return t.files[fd]
}

// free releases fd; it does nothing when fd is not in use.
func (t *fdTable[T]) free(fd int) {
	if !t.inUse(fd) {
		return
	}
	var zero T
	t.files[fd] = zero
	t.open[fd/64] &^= 1 << (fd % 64)
	t.fullWords &^= 1 << (fd / 64)
	t.n--
}

// fds returns the descriptors in use, in increasing order.
func (t *fdTable[T]) fds() []int {
	out := make([]int, 0, t.n)
	for w, word := range t.open {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &^= 1 << b
			if fd := w*64 + b; fd >= t.first && fd < t.max {
				out = append(out, fd)
			}
		}
	}
	return out
}

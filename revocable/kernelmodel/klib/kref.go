package klib

import (
	"fmt"

	"github.com/drvsim/drvsim/env"
)

// Kref is struct kref (include/linux/kref.h), embedded in a kmalloc'ed
// struct: every operation first checks the access to the containing
// object, so a kref touched after its container was freed is reported as
// a use-after-free in the kref function.
type Kref struct {
	k        *Kernel
	owner    *env.Object
	refcount int
}

// Init sets the count to 1: kref_init. owner is the allocation the kref
// is embedded in.
func (r *Kref) Init(k *Kernel, owner *env.Object) {
	r.k, r.owner = k, owner
	owner.Access("kref_init")
	r.refcount = 1
}

// Get takes a reference: kref_get. Incrementing a zero count is the
// refcount_t warning "addition on 0; use-after-free": it is recorded as a
// WARN and the count saturates, as in the kernel.
func (r *Kref) Get() {
	r.owner.Access("kref_get")
	r.k.count.KrefGet++
	if r.refcount == 0 {
		r.k.Warn("refcount_warn_saturate", fmt.Sprintf("refcount_t: addition on 0; use-after-free (%s)", r.owner.Name()))
		r.refcount = -1 << 30 // REFCOUNT_SATURATED
		return
	}
	r.refcount++
}

// GetUnlessZero takes a reference unless the count is zero and reports
// whether it did: kref_get_unless_zero.
func (r *Kref) GetUnlessZero() bool {
	r.owner.Access("kref_get_unless_zero")
	r.k.count.KrefGetUnlessZero++
	if r.refcount == 0 {
		return false
	}
	r.refcount++
	return true
}

// Put drops a reference and calls release when it was the last: kref_put.
// It reports whether release was called.
func (r *Kref) Put(release func(*Kref)) bool {
	r.owner.Access("kref_put")
	r.k.count.KrefPut++
	r.refcount--
	if r.refcount == 0 {
		release(r)
		return true
	}
	return false
}

// Read returns the count: kref_read.
func (r *Kref) Read() int {
	r.owner.Access("kref_read")
	return r.refcount
}

// Set overwrites the count: refcount_set on kref.refcount, which the
// kernel's KUnit test uses to simulate a provider being released.
func (r *Kref) Set(n int) {
	r.owner.Access("refcount_set")
	r.refcount = n
}

package klib

import "github.com/drvsim/drvsim/env"

// Kzalloc allocates a simulated object named name (the struct's type, e.g.
// "revocable_provider"): kzalloc(sizeof(*p), GFP_KERNEL). Every access to
// it after Kfree is reported as a use-after-free.
func (k *Kernel) Kzalloc(name string) *env.Object {
	k.count.Kzalloc++
	return k.s.Memory().Alloc(name)
}

// Kfree frees obj: kfree. kfree(NULL) does nothing.
func Kfree(obj *env.Object) {
	if obj != nil {
		obj.Free()
	}
}

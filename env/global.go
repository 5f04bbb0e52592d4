package env

import "sync"

// global is one entry of an Env's globals: the value and the once that
// creates it.
type global struct {
	once sync.Once
	v    any
}

// Global returns the machine's instance of a subsystem's global state:
// what the kernel keeps in a subsystem's static variables (fs/char_dev.c's
// chrdevs[] and cdev_map, the driver core of the machine), created by
// create on first use and the same value for every later call with the
// same key. key identifies the state; use a value of an unexported type
// of the package that owns it (a struct{} type), so that no other package
// can reach it. Two machines never share a global. create runs once, with
// no lock of the Env held; concurrent first calls wait for it.
func (e *Env) Global(key any, create func() any) any {
	g, _ := e.globals.LoadOrStore(key, &global{})
	gl := g.(*global)
	gl.once.Do(func() { gl.v = create() })
	return gl.v
}

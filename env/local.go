package env

import "sync"

// locals is what packages above env keep per machine: values under keys
// of their own (the kernel library's system workqueue and interrupt
// controller) and the functions that shut them down with the machine.
// They live and die with the Env, so no package needs a process-global
// registry of machines.
type locals struct {
	vals    sync.Map // key -> *local
	mu      sync.Mutex
	closers []func()
	closed  bool
}

// local is one entry of the machine's table: the value and the once that
// creates it.
type local struct {
	once sync.Once
	v    any
}

// Local returns the machine's instance of a subsystem's state under key,
// what the kernel keeps in a subsystem's static variables (fs/char_dev.c's
// chrdevs[], the system workqueue, the interrupt descriptors), created by
// mk on first use and the same value for every later call with the same
// key. key should be a value of an unexported type of the calling package
// (as with context.Context values), so that no other package can reach it.
// Two machines never share a value. mk runs once, with no lock of the Env
// held (it may call Local and AtClose); concurrent first calls wait for it.
func (e *Env) Local(key any, mk func() any) any {
	l, _ := e.loc.vals.LoadOrStore(key, &local{})
	lv := l.(*local)
	lv.once.Do(func() { lv.v = mk() })
	return lv.v
}

// AtClose registers fn to run when the machine shuts down (Close), after
// the functions registered later: the last registered runs first, as
// devres releases. After Close, fn runs at once.
func (e *Env) AtClose(fn func()) {
	e.loc.mu.Lock()
	if !e.loc.closed {
		e.loc.closers = append(e.loc.closers, fn)
		e.loc.mu.Unlock()
		return
	}
	e.loc.mu.Unlock()
	fn()
}

// Close shuts the machine's environment down: it runs the AtClose
// functions, last registered first, once (later calls do nothing). In the
// plain environment this is where the kernel library drains the
// machine's system workqueue, so that no worker goroutine outlives the
// machine; drvsim.System.Close calls it. A simulated run's tasks end with
// the run, and its Env needs no Close.
func (e *Env) Close() {
	e.loc.mu.Lock()
	if e.loc.closed {
		e.loc.mu.Unlock()
		return
	}
	e.loc.closed = true
	fns := e.loc.closers
	e.loc.closers = nil
	e.loc.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// Closed reports whether Close has been called.
func (e *Env) Closed() bool {
	e.loc.mu.Lock()
	defer e.loc.mu.Unlock()
	return e.loc.closed
}

package env

import "sync"

// locals is what packages above env keep per machine: values under keys
// of their own (the kernel library's system workqueue and interrupt
// controller) and the functions that shut them down with the machine.
// They live and die with the Env, so no package needs a process-global
// registry of machines.
type locals struct {
	mu      sync.Mutex
	vals    map[any]any
	closers []func()
	closed  bool
}

// Local returns the value kept for this machine under key, calling mk to
// create it on first use. Packages above env keep their per-machine state
// here; key should be a value of an unexported type of the calling
// package, as with context.Context values. mk runs with the table locked:
// it must not call Local, AtClose or Close.
func (e *Env) Local(key any, mk func() any) any {
	e.loc.mu.Lock()
	defer e.loc.mu.Unlock()
	if v, ok := e.loc.vals[key]; ok {
		return v
	}
	if e.loc.vals == nil {
		e.loc.vals = map[any]any{}
	}
	v := mk()
	e.loc.vals[key] = v
	return v
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

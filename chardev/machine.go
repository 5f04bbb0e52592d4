package chardev

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/trace"
)

// machine is one machine's character-device tables: what fs/char_dev.c
// and drivers/base/class.c keep in static variables.
type machine struct {
	e *env.Env

	// chrdevsLock is chrdevs_lock, taken by region registration: a
	// schedule point under the simulator.
	chrdevsLock *kernel.Mutex

	mu      sync.Mutex // guards the fields below (and cdev_lock's part)
	regions []*region  // chrdevs[]: sorted by major, then first minor
	cdevMap []*probe   // cdev_map: newest first within a range size, smallest ranges first
	classes []*Class   // class_kset, in registration order
	files   []*File    // files open, under a simulator (the files leak check)
}

// machineKey is the env.Env.Local key of a machine's tables.
type machineKey struct{}

// machineOf returns the tables of e's machine.
func machineOf(e *env.Env) *machine {
	return e.Local(machineKey{}, func() any {
		m := &machine{e: e, chrdevsLock: kernel.NewQuietMutex(e, "chrdevs_lock")}
		if e.Simulated() {
			e.AddLeakCheck(env.LeakFiles, m.fileLeaks)
		}
		return m
	}).(*machine)
}

// track records an open file, under a simulator, for the files leak check.
func (m *machine) track(f *File) {
	if !m.e.Simulated() {
		return
	}
	m.mu.Lock()
	m.files = append(m.files, f)
	m.mu.Unlock()
}

// fileLeaks is the files leak check: every file opened and never released
// (its last fput never came), with where it was opened. A process that
// exits closes its files in the kernel; a run that ends with one open is a
// test that forgot release().
func (m *machine) fileLeaks() []string {
	m.mu.Lock()
	files := append([]*File(nil), m.files...)
	m.mu.Unlock()
	var out []string
	for _, f := range files {
		f.mu.Lock()
		released, refs := f.released, f.refs
		f.mu.Unlock()
		if !released {
			out = append(out, fmt.Sprintf("file %s never released (f_count=%d), opened %s", f.path, refs, f.opened))
		}
	}
	return out
}

func (m *machine) emit(kind trace.Kind, dev, fn, msg string) {
	m.e.Log().Emit(trace.Event{Kind: kind, Dev: dev, Func: fn, Msg: msg})
}

package chardev

import (
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
}

// machineKey is the env.Env.Local key of a machine's tables.
type machineKey struct{}

// machineOf returns the tables of e's machine.
func machineOf(e *env.Env) *machine {
	return e.Local(machineKey{}, func() any {
		return &machine{e: e, chrdevsLock: kernel.NewQuietMutex(e, "chrdevs_lock")}
	}).(*machine)
}

func (m *machine) emit(kind trace.Kind, dev, fn, msg string) {
	m.e.Log().Emit(trace.Event{Kind: kind, Dev: dev, Func: fn, Msg: msg})
}

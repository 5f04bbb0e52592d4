package drmsim_test

import (
	"sync"
	"sync/atomic"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/revocable/srcu"
)

// kernelUnplug is a straight port of the kernel's original design, for the
// benchmarks: one global SRCU domain, drm_unplug_srcu, shared by every drm
// device, and a per-device unplugged flag. Go has no per-CPU counters, so
// the domain has one reader slot shared by all readers of all devices,
// which is what the kernel's srcu_struct would be on a machine without
// per-CPU data.
type kernelUnplug struct {
	dom  *srcu.Domain
	slot *srcu.Slot
}

func newKernelUnplug() *kernelUnplug {
	d := srcu.New(env.New(env.WithLockdep(false)), "drm_unplug_srcu")
	return &kernelUnplug{dom: d, slot: d.NewSlot()}
}

type kernelDev struct {
	g         *kernelUnplug
	unplugged atomic.Bool
}

// enter is the kernel's drm_dev_enter.
func (d *kernelDev) enter() (srcu.Guard, bool) {
	idx := d.g.slot.Lock()
	if d.unplugged.Load() {
		idx.Unlock()
		return srcu.Guard{}, false
	}
	return idx, true
}

// exit is drm_dev_exit.
func (d *kernelDev) exit(idx srcu.Guard) { idx.Unlock() }

// unplug is drm_dev_unplug's first half.
func (d *kernelDev) unplug() {
	d.unplugged.Store(true)
	d.g.dom.Synchronize()
}

// rwDev is the naive alternative: a per-device sync.RWMutex held for
// reading across the section, taken for writing by the unplug.
type rwDev struct {
	mu        sync.RWMutex
	unplugged bool
}

func (d *rwDev) enter() bool {
	d.mu.RLock()
	if d.unplugged {
		d.mu.RUnlock()
		return false
	}
	return true
}

func (d *rwDev) exit() { d.mu.RUnlock() }

func (d *rwDev) unplug() {
	d.mu.Lock()
	d.unplugged = true
	d.mu.Unlock()
}

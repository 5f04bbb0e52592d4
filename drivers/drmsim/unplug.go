package drmsim

import (
	"github.com/drvsim/drvsim/revocable"
)

// Idx is the index drm_dev_enter hands out and drm_dev_exit takes back: a
// revocable.Access, the open read section on the device's provider. It
// carries its own SRCU slot and epoch, so an Idx is released exactly where
// it was counted.
type Idx = revocable.Access

// Enter is drm_dev_enter: it opens a critical section in which the
// device's hardware may be used, and returns its index and true; or, once
// the device is unplugged, false (the section is then already closed).
// Sections nest. Every successful Enter must be paired with Exit.
//
// The kernel enters a read section of one global SRCU domain
// (drm_unplug_srcu) and checks dev->unplugged; here it is TryAccess on the
// device's own revocable consumer: no lock, no allocation, no event.
func (d *Device) Enter() (Idx, bool) {
	if p, a := d.self.TryAccess(); p != nil {
		return a, true
	} else {
		return enterRefused(a)
	}
}

// enterRefused closes the section of a refused Enter. It is out of line so
// that Enter stays small enough to be inlined into its callers.
//
//go:noinline
func enterRefused(a Idx) (Idx, bool) {
	a.Release()
	return Idx{}, false
}

// Exit is drm_dev_exit: it closes the section Enter opened.
func (d *Device) Exit(idx Idx) { idx.Release() }

// IsUnplugged is drm_dev_is_unplugged: an Enter that fails.
func (d *Device) IsUnplugged() bool {
	idx, ok := d.Enter()
	if ok {
		d.Exit(idx)
	}
	return !ok
}

// Presence returns the device's revocable provider, whose resource is the
// hardware presence. A driver that prefers a handle of its own to the
// classic Enter/Exit pair opens a consumer on it (revocable.New) and runs
// its hardware accesses with Consumer.OrReturn, which returns an error
// wrapping revocable.ErrRevoked once the device is unplugged. Do not
// Revoke it: Unplug does.
func (d *Device) Presence() *revocable.Provider[Presence] { return d.pres }

// Unplug is drm_dev_unplug, in the kernel's order: mark the device
// unplugged, so that every Enter from now on fails; wait for every section
// that entered before (synchronize_srcu, here the provider's grace
// period); unregister it (drm_dev_unregister); zap every user mapping
// (unmap_mapping_range: the next access faults the pages in again). Open
// files stay valid: their ioctls fail with ErrNoDevice and their close
// still works. Unplug is idempotent: a second call only waits for the
// first (the kernel would unregister and unmap again). The "unplugged"
// event and the revoke's publication follow each other with no schedule
// point between, so no Enter that starts after the event succeeds.
//
// Calling Unplug from inside the device's own Enter section would wait for
// itself; under a scheduler (or with lockdep) it panics instead.
func (d *Device) Unplug() {
	d.yield("drm_dev_unplug", "drm_dev_unplug")
	d.touch("drm_dev_unplug")
	d.mu.Lock()
	again := d.unplugged
	d.unplugged = true
	d.mu.Unlock()
	if again {
		d.pres.Revoke() // returns once the first call's grace period is over
		return
	}
	d.emit(KindDevice, "drm_dev_unplug", "unplugged, waiting for drm_dev_enter sections")
	d.pres.Revoke()
	d.emit(KindDevice, "drm_dev_unplug", "every drm_dev_enter section has ended")
	d.Unregister()
	d.unmapMappings()
}

// Unplugged reports whether Unplug has been called (dev->unplugged); unlike
// IsUnplugged it enters no section.
func (d *Device) Unplugged() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.unplugged
}

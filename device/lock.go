package device

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/internal/goid"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// lockState is the device lock (dev->mutex). It records who holds it so
// that a task asking for a lock it already holds gets ErrDeadlock instead of
// hanging: the goroutine id outside a controlled run, the simulated task's
// name under a scheduler.
type lockState struct {
	held  bool
	owner uint64 // goroutine id of the holder (0 under a scheduler task)
	task  string // scheduler task of the holder
	cond  *sync.Cond
}

// Lock is device_lock: it takes the device's lock, waiting while another
// task holds it. It is a schedule point under a scheduler. If the calling
// task (goroutine, or scheduler task) already holds the lock, Lock emits
// trace.Warn and returns an ErrDeadlock error instead of waiting forever:
// the typical case is a driver calling back into the core for its own
// device (Unbind from its probe or remove).
func (d *Device) Lock() error { return d.lock(true) }

// Lock is device_lock for the driver core's own use: the same as
// Device.Lock, except that the calling goroutine is not recorded on the
// uncontended path (finding a goroutine's id is slow). The core calls
// MarkLockOwner before running driver code under the lock, which is the only
// code that could take the lock again.
func (c CoreAccess) Lock() error { return c.d.lock(false) }

func (d *Device) lock(record bool) error {
	s := d.scheduler()
	task := ""
	if s != nil {
		s.Yield(sched.Point{Kind: "device_lock", Func: "device_lock", Obj: d.path})
		task = s.Current()
	}
	var me uint64 // computed on contention, or when record is set: goid.Get is slow
	if record && task == "" {
		me = goid.Get()
	}
	d.mu.Lock()
	for d.lk.held {
		if task == "" && me == 0 {
			d.mu.Unlock()
			me = goid.Get()
			d.mu.Lock()
			continue
		}
		if (task != "" && d.lk.task == task) || (task == "" && d.lk.owner == me) {
			d.mu.Unlock()
			d.emit(trace.Warn, "device_lock", "possible recursive locking: task already holds the device lock")
			return fmt.Errorf("device_lock %s: already held by the calling task: %w", d.path, ErrDeadlock)
		}
		if task != "" {
			holder := d.lk.task
			d.mu.Unlock()
			s.Block(sched.Wait{What: "device_lock " + d.path, Holder: func() string { return holder }},
				func() bool {
					d.mu.Lock()
					defer d.mu.Unlock()
					return !d.lk.held
				})
			d.mu.Lock()
			continue
		}
		if d.lk.cond == nil {
			d.lk.cond = sync.NewCond(&d.mu)
		}
		d.lk.cond.Wait()
	}
	d.lk.held, d.lk.owner, d.lk.task = true, me, task
	d.mu.Unlock()
	return nil
}

// MarkLockOwner records the calling goroutine as the holder of the device
// lock, if the lock is held and its holder is not yet known. The driver core
// calls it before running driver code (probe, remove, shutdown, notifiers,
// devres actions) with the lock held, so that such code calling back into
// the core for the same device gets ErrDeadlock. Lock itself does not
// record the goroutine on its fast path, because finding a goroutine's id is
// slow; the only way to take a held lock recursively is from such driver
// code. Under a scheduler the task name is recorded by Lock and this is a
// no-op.
func (c CoreAccess) MarkLockOwner() {
	d := c.d
	d.mu.Lock()
	need := d.lk.held && d.lk.owner == 0 && d.lk.task == ""
	d.mu.Unlock()
	if !need {
		return
	}
	me := goid.Get()
	d.mu.Lock()
	if d.lk.held && d.lk.owner == 0 && d.lk.task == "" {
		d.lk.owner = me
	}
	d.mu.Unlock()
}

// Unlock is device_unlock. Unlocking a lock that is not held is reported
// with trace.Warn and an ErrInvalid error.
func (d *Device) Unlock() error {
	d.mu.Lock()
	if !d.lk.held {
		d.mu.Unlock()
		d.emit(trace.Warn, "device_unlock", "unlocking a device lock that is not held")
		return fmt.Errorf("device_unlock %s: not locked: %w", d.path, ErrInvalid)
	}
	d.lk.held, d.lk.owner, d.lk.task = false, 0, ""
	if d.lk.cond != nil {
		d.lk.cond.Broadcast()
	}
	d.mu.Unlock()
	return nil
}

// Locked reports whether the device lock is held by anyone
// (device_lock_is_held, approximately).
func (d *Device) Locked() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.lk.held
}

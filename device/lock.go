package device

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// lockState is the device lock (dev->mutex). It records who holds it
// (env.Holder: the owning task's identity, a nanosecond to take), so that
// with lockdep on a task asking for a lock it already holds gets
// ErrDeadlock instead of hanging.
type lockState struct {
	held   bool
	holder env.Holder
	cond   *sync.Cond
}

// Lock is device_lock: it takes the device's lock, waiting while another
// task holds it. It is a schedule point under a simulator. With lockdep on
// (the environment's default), a task that already holds the lock gets a
// trace.Warn event and an ErrDeadlock error instead of waiting forever:
// the typical case is a driver calling back into the core for its own
// device (Unbind from its probe or remove). With lockdep off it hangs, as
// a kernel without lockdep would.
func (d *Device) Lock() error {
	e := d.Env()
	e.MightSleep("device_lock " + d.path)
	e.Yield(sched.Point{Kind: "device_lock", Func: "device_lock", Obj: d.path})
	me := e.Holder()
	var wt *env.Watch // the hung-task detector's, while waiting
	watched := false
	d.mu.Lock()
	for d.lk.held {
		if e.Lockdep() && d.lk.holder.Owner == me.Owner {
			d.mu.Unlock()
			d.emit(trace.Warn, "device_lock", "possible recursive locking: task already holds the device lock")
			return fmt.Errorf("device_lock %s: already held by the calling task: %w", d.path, ErrDeadlock)
		}
		if s := e.Scheduler(); s != nil {
			holder := d.lk.holder.String()
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
		if !watched {
			watched = true
			wt = e.Watch(env.Watched{What: "device_lock", Dev: d.path, Holders: d.lockHolders})
		}
		d.lk.cond.Wait()
	}
	wt.Done()
	d.lk.held, d.lk.holder = true, me
	d.mu.Unlock()
	return nil
}

// lockHolders names the task holding the lock, for the hung-task
// detector's wait-for chain.
func (d *Device) lockHolders() ([]env.Owner, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.lk.held {
		return nil, ""
	}
	return []env.Owner{d.lk.holder.Owner}, ""
}

// Lock is device_lock for the driver core's own use: the same as
// Device.Lock.
func (c CoreAccess) Lock() error { return c.d.Lock() }

// Unlock is device_unlock. Unlocking a lock that is not held is reported
// with trace.Warn and an ErrInvalid error.
func (d *Device) Unlock() error {
	d.mu.Lock()
	if !d.lk.held {
		d.mu.Unlock()
		d.emit(trace.Warn, "device_unlock", "unlocking a device lock that is not held")
		return fmt.Errorf("device_unlock %s: not locked: %w", d.path, ErrInvalid)
	}
	d.lk.held, d.lk.holder = false, env.Holder{}
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

// LockHolder names the task holding the device lock ("" when free), for
// reports.
func (d *Device) LockHolder() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.lk.held {
		return ""
	}
	return d.lk.holder.String()
}

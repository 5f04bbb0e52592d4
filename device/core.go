package device

import (
	"container/list"
	"fmt"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// CoreAccess gives the driver core (package bus) the parts of a Device only
// it may change: the fields the kernel's drivers/base writes directly
// (dev->p, dev->driver, the lifecycle flags, the parent's child list). Code
// outside the driver core must not use it.
type CoreAccess struct{ d *Device }

// Core returns the driver core's access to d. Drivers and tests must not use
// it; it exists because Go has no friend packages.
func (d *Device) Core() CoreAccess { return CoreAccess{d} }

// Initialize is device_initialize: one reference, StateInitialized, and the
// device placed in its machine's environment e (its trace log, scheduler,
// memory and lockdep), which its devres list and everything created for it
// use from then on. Initializing twice gives ErrExist and changes nothing;
// a nil environment gives ErrInvalid.
func (c CoreAccess) Initialize(e *env.Env) error {
	d := c.d
	if e == nil {
		return fmt.Errorf("device_initialize %s: no environment: %w", d.path, ErrInvalid)
	}
	d.mu.Lock()
	if d.state != StateNew {
		st := d.state
		d.mu.Unlock()
		return fmt.Errorf("device_initialize %s: already initialized (state %s): %w", d.path, st, ErrExist)
	}
	d.env = e
	d.refs = 1
	d.state = StateInitialized
	if e.Simulated() {
		d.refs2 = &refTrack{}
	}
	d.mu.Unlock()
	d.devres.Attach(e)
	if e.Simulated() {
		e.AddLeakCheck(env.LeakDeviceRefs, d.refLeaks)
		e.AddLeakCheck(env.LeakDevres, d.devresLeaks)
	}
	d.emit(trace.DeviceInit, "device_initialize", "")
	return nil
}

// SetState sets the lifecycle state.
func (c CoreAccess) SetState(s State) {
	c.d.mu.Lock()
	c.d.state = s
	c.d.mu.Unlock()
}

// Kill is kill_device: it marks the device dead and reports whether it was
// alive (false: device_del already ran).
func (c CoreAccess) Kill() bool {
	d := c.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dead {
		return false
	}
	d.dead = true
	return true
}

// SetDriver is device_set_driver: it sets (or, with nil, clears) dev->driver.
func (c CoreAccess) SetDriver(drv Driver) {
	c.d.mu.Lock()
	c.d.driver = drv
	c.d.mu.Unlock()
}

// Private returns the core's per-device data (dev->p).
func (c CoreAccess) Private() any {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	return c.d.priv
}

// SetPrivate sets the core's per-device data (dev->p).
func (c CoreAccess) SetPrivate(p any) {
	c.d.mu.Lock()
	c.d.priv = p
	c.d.mu.Unlock()
}

// LinkToParent is HoldParent followed by JoinParent.
func (c CoreAccess) LinkToParent() {
	c.HoldParent()
	c.JoinParent()
}

// HoldParent takes the reference on the parent that device_add takes first
// (get_device(dev->parent)) and device_del drops last.
func (c CoreAccess) HoldParent() {
	if p := c.d.parent; p != nil {
		p.Get()
	}
}

// JoinParent adds the device to the tail of its parent's child list
// (klist_children), which device_add does only after bus_probe_device. A
// device already on the list, or dead, is left alone.
func (c CoreAccess) JoinParent() {
	d := c.d
	p := d.parent
	if p == nil {
		return
	}
	d.mu.Lock()
	skip := d.dead || d.childElem != nil
	d.mu.Unlock()
	if skip {
		return
	}
	p.mu.Lock()
	if p.children == nil {
		p.children = list.New()
	}
	e := p.children.PushBack(d)
	p.mu.Unlock()
	d.mu.Lock()
	d.childElem = e
	d.mu.Unlock()
}

// UnlinkFromParent removes the device from its parent's child list; the
// caller drops the parent's reference at the end of device_del.
func (c CoreAccess) UnlinkFromParent() {
	d := c.d
	p := d.parent
	if p == nil {
		return
	}
	d.mu.Lock()
	e := d.childElem
	d.childElem = nil
	d.mu.Unlock()
	if e == nil {
		return
	}
	p.mu.Lock()
	p.children.Remove(e)
	p.mu.Unlock()
}

// Emit records a trace event about the device.
func (c CoreAccess) Emit(kind trace.Kind, fn, msg string) { c.d.emit(kind, fn, msg) }

package bus

import (
	"fmt"
	"slices"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// sync_state (drivers/base/core.c, dd.c): a supplier whose driver (or bus)
// has a sync_state callback hears once, when every consumer linked to it
// by a managed device link has bound, that it may drop the state the
// bootloader left (a regulator kept on, a clock kept running) and nobody
// claimed. While sync_state is paused (of_platform_populate pauses it
// while it adds a tree's devices) candidates wait on the deferred list and
// are checked, in order, at the last resume.

// hasSyncState is dev_has_sync_state.
func hasSyncState(dev *device.Device) bool {
	if b, ok := dev.Bus().(*Bus); ok && b != nil && b.SyncState != nil {
		return true
	}
	drv := boundDriver(dev)
	return drv != nil && drv.SyncState != nil
}

// SyncStatePause is device_links_supplier_sync_state_pause: until the
// matching SyncStateResume, no sync_state is called; the suppliers that
// become ready wait on the deferred list. Pauses nest.
func (c *Core) SyncStatePause() {
	c.mu.Lock()
	c.fw.pauseCount++
	c.mu.Unlock()
}

// SyncStateResume is device_links_supplier_sync_state_resume: the last
// resume checks every deferred supplier, in order, and calls the
// sync_state of those whose consumers have all bound. A resume without a
// pause is reported (the kernel's "Unmatched sync_state pause/resume!"
// WARN) and changes nothing.
func (c *Core) SyncStateResume() {
	c.mu.Lock()
	if c.fw.pauseCount == 0 {
		c.mu.Unlock()
		c.emit(trace.Warn, "", "device_links_supplier_sync_state_resume", "Unmatched sync_state pause/resume!")
		return
	}
	c.fw.pauseCount--
	var list []*devPriv
	if c.fw.pauseCount == 0 {
		deferred := c.fw.deferredSync
		c.fw.deferredSync = nil
		for _, p := range deferred {
			p.deferSync = false
			c.queueSyncStateLocked(p, &list)
		}
	}
	c.mu.Unlock()
	c.flushSyncList(list, nil)
}

// StateSynced reports whether dev's sync_state has been called (or
// forced): its state_synced attribute.
func (c *Core) StateSynced(dev *device.Device) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.devPrivOf(dev)
	return p != nil && p.stateSynced
}

// queueSyncStateLocked is __device_links_queue_sync_state: dev is ready
// when it has a sync_state, has not had it, and every managed link to a
// consumer is active (the consumer is bound); then it is marked synced and
// queued on list. Called with c.mu held.
func (c *Core) queueSyncStateLocked(p *devPriv, list *[]*devPriv) {
	if p.stateSynced || !hasSyncState(p.dev) {
		return
	}
	for _, l := range p.dev.Consumers() {
		if l.Managed() && l.Consumer.State() != device.StateBound {
			return
		}
	}
	p.stateSynced = true
	p.dev.Get()
	*list = append(*list, p)
}

// deferSyncLocked is __device_links_supplier_defer_sync: dev waits on the
// deferred list for the last resume. Called with c.mu held.
func (c *Core) deferSyncLocked(p *devPriv) {
	if p.deferSync || !hasSyncState(p.dev) {
		return
	}
	p.deferSync = true
	c.fw.deferredSync = append(c.fw.deferredSync, p)
}

// queueOrDeferSyncLocked queues dev's sync_state, or defers it while
// paused.
func (c *Core) queueOrDeferSyncLocked(p *devPriv, list *[]*devPriv) {
	if c.fw.pauseCount > 0 {
		c.deferSyncLocked(p)
		return
	}
	c.queueSyncStateLocked(p, list)
}

// flushSyncList is device_links_flush_sync_list: each queued device's
// sync_state (the bus's, else its driver's), under its device lock
// (except dontLock's, whose lock the caller holds), then the queue's
// reference dropped.
func (c *Core) flushSyncList(list []*devPriv, dontLock *device.Device) {
	for _, p := range list {
		dev := p.dev
		locked := false
		if dev != dontLock {
			locked = dev.Core().Lock() == nil
		}
		c.devSyncState(dev)
		if locked {
			_ = dev.Unlock()
		}
		_ = dev.Put()
	}
}

// devSyncState is dev_sync_state.
func (c *Core) devSyncState(dev *device.Device) {
	if b, ok := dev.Bus().(*Bus); ok && b != nil && b.SyncState != nil {
		c.emit(trace.SyncState, dev.Path(), "dev_sync_state", "bus="+b.Name)
		c.callSyncState(dev, b.SyncState)
		return
	}
	if drv := boundDriver(dev); drv != nil && drv.SyncState != nil {
		c.emit(trace.SyncState, dev.Path(), "dev_sync_state", "driver="+drv.Name)
		c.callSyncState(dev, drv.SyncState)
	}
}

// callSyncState runs a sync_state callback. In the plain environment a
// panic in it becomes a report (the kernel's Oops) and the machine goes
// on; under a simulator it fails the run, as any task's panic does.
func (c *Core) callSyncState(dev *device.Device, fn func(*device.Device)) {
	if c.env.Scheduler() == nil {
		defer func() {
			if r := recover(); r != nil {
				c.env.Report("oops", &env.Report{Kind: env.BugPanic,
					Title:   fmt.Sprintf("Oops: sync_state of %s panicked: %v", dev.Path(), r),
					Details: fmt.Sprintf("panic in dev_sync_state %s: %v\n", dev.Path(), r)})
			}
		}()
	}
	fn(dev)
}

// syncStateDriverBound is device_links_driver_bound's sync_state half: the
// bound device itself may be ready (a supplier without consumers), its
// SYNC_STATE_ONLY links to suppliers go, and each of its suppliers may now
// be ready; the ready ones' sync_state runs (the bound device's own under
// the lock the caller holds).
func (c *Core) syncStateDriverBound(p *devPriv) {
	var list []*devPriv
	c.mu.Lock()
	c.queueOrDeferSyncLocked(p, &list)
	c.mu.Unlock()
	for _, l := range p.dev.Suppliers() {
		if !l.Managed() {
			continue
		}
		if l.Flags&device.LinkSyncStateOnly != 0 {
			c.dropLink(l, "device_links_driver_bound")
		}
		if sp := c.devPrivOf(l.Supplier); sp != nil {
			c.mu.Lock()
			c.queueOrDeferSyncLocked(sp, &list)
			c.mu.Unlock()
		}
	}
	c.flushSyncList(list, p.dev)
}

// syncStateUnbound is device_links_driver_cleanup's sync_state step: an
// unbound device leaves the deferred list.
func (c *Core) syncStateUnbound(p *devPriv) {
	c.mu.Lock()
	if p.deferSync {
		p.deferSync = false
		c.fw.deferredSync = slices.DeleteFunc(c.fw.deferredSync, func(x *devPriv) bool { return x == p })
	}
	c.mu.Unlock()
}

// fwDevlinkProbingDone is fw_devlink_probing_done, at the end of the
// deferred-probe timeout: for every managed link whose consumer never
// bound, the supplier's pending sync_state is logged ("sync_state()
// pending due to <consumer>") in strict mode, or forced ("Timed out.
// Forcing sync_state()") in timeout mode.
func (c *Core) fwDevlinkProbingDone() {
	c.fw.mu.Lock()
	mode := c.fw.syncMode
	c.fw.mu.Unlock()
	var list []*devPriv
	for _, sup := range c.Devices() {
		sp := c.devPrivOf(sup)
		if sp == nil {
			continue
		}
		for _, l := range sup.Consumers() {
			c.mu.Lock()
			skip := !l.Managed() || l.Consumer.State() == device.StateBound || sp.stateSynced || !hasSyncState(sup)
			c.mu.Unlock()
			if skip {
				continue
			}
			if mode == SyncStateStrict {
				c.emit(trace.Warn, sup.Path(), "fw_devlink_dev_sync_state", "sync_state() pending due to "+l.Consumer.Name())
				continue
			}
			c.mu.Lock()
			if sp.deferSync {
				c.mu.Unlock()
				continue
			}
			sp.stateSynced = true
			sup.Get()
			list = append(list, sp)
			c.mu.Unlock()
			c.emit(trace.Warn, sup.Path(), "fw_devlink_dev_sync_state", "Timed out. Forcing sync_state()")
		}
	}
	c.flushSyncList(list, nil)
}

// ForceSyncState models writing "1" to the device's state_synced
// attribute: its sync_state is called now, whatever its consumers, unless
// it ran already. ErrInvalid for a device without a sync_state callback,
// ErrNoDevice for a device not registered here.
func (c *Core) ForceSyncState(dev *device.Device) error {
	p := c.devPrivOf(dev)
	if p == nil {
		return fmt.Errorf("state_synced: not registered in this system: %w", device.ErrNoDevice)
	}
	if err := dev.Core().Lock(); err != nil {
		return err
	}
	defer dev.Unlock()
	if !hasSyncState(dev) {
		return fmt.Errorf("state_synced %s: no sync_state callback: %w", dev.Path(), device.ErrInvalid)
	}
	c.mu.Lock()
	done := p.stateSynced
	p.stateSynced = true
	c.mu.Unlock()
	if !done {
		c.emit(trace.Note, dev.Path(), "state_synced_store", "1")
		c.devSyncState(dev)
	}
	return nil
}

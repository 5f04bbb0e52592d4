package bus

import (
	"fmt"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// RegisterDriver is driver_register -> bus_add_driver: the driver joins its
// bus's driver list, driver_attach tries every device of the bus without a
// driver (in registration order; asynchronous drivers through the async
// worker), and the driver's "add" uevent is sent. Last, a pending
// deferred-probe timeout starts over (deferred_probe_extend_timeout).
//
// A driver without a name or bus gives ErrInvalid, as does an unknown bus;
// a driver whose name is already registered on the bus, the same *Driver
// included, gives ErrBusy (driver_find succeeds: the kernel's "is already
// registered, aborting"); a *Driver registered in another Core gives
// ErrExist.
func (c *Core) RegisterDriver(drv *driver.Driver) error {
	if err := drv.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	b := c.buses[drv.Bus]
	if b == nil {
		c.mu.Unlock()
		return fmt.Errorf("driver_register %q: bus %q not registered: %w", drv.Name, drv.Bus, device.ErrInvalid)
	}
	if _, dup := b.p.drvByName[drv.Name]; dup {
		c.mu.Unlock()
		return fmt.Errorf("driver_register %q: a driver of that name is already registered on bus %q: %w", drv.Name, b.Name, device.ErrBusy)
	}
	if drv.Private() != nil {
		c.mu.Unlock()
		return fmt.Errorf("driver_register %q: already registered elsewhere: %w", drv.Name, device.ErrExist)
	}
	dp := &drvPriv{drv: drv, core: c, bus: b, registered: true}
	drv.SetPrivate(dp)
	b.p.drivers = append(b.p.drivers, dp)
	b.p.drvByName[drv.Name] = dp
	c.mu.Unlock()

	c.enter()
	defer c.exit()
	c.emit(trace.DriverAdd, drv.Path(), "driver_register", "")
	if !b.NoAutoprobe {
		c.driverAttach(dp)
	}
	c.emit(trace.Uevent, drv.Path(), "kobject_uevent", "add")
	// deferred_probe_extend_timeout: a pending timeout starts over.
	now := c.env.Now()
	c.mu.Lock()
	if !c.timeoutFired && c.deadline > 0 && now+c.timeout > c.deadline {
		c.deadline = now + c.timeout
	}
	c.mu.Unlock()
	return nil
}

// UnregisterDriver is driver_unregister -> bus_remove_driver: the driver
// leaves its bus, then driver_detach unbinds every bound device, last bound
// first, each exactly once. An unknown driver, or one unregistered already,
// gives ErrNoEntry and a trace.Warn (the kernel's "Unexpected driver
// unregister!").
//
// Probes of the driver in flight on other tasks are waited for before
// driver_detach, so that none binds a device to the driver once it is
// gone: in the kernel, bus_remove_driver's klist_remove waits for every
// bus_for_each_drv walk standing on the driver, and the driver's bind file
// drains its writers, before driver_detach takes each device lock. A task
// unregistering a driver from inside one of that driver's probes would
// wait for itself: with lockdep on, it gets ErrDeadlock and a trace.Warn
// instead, and the driver stays registered.
func (c *Core) UnregisterDriver(drv *driver.Driver) error {
	me := c.env.Holder()
	c.mu.Lock()
	dp := c.drvPrivOf(drv)
	if dp == nil || !dp.registered {
		c.mu.Unlock()
		name := "<nil>"
		if drv != nil {
			name = drv.Name
		}
		if drv != nil {
			c.emit(trace.Warn, drv.Path(), "driver_unregister", "Unexpected driver unregister!")
		}
		return fmt.Errorf("driver_unregister %q: not registered: %w", name, device.ErrNoEntry)
	}
	if c.env.Lockdep() {
		for _, h := range dp.probers {
			if h.Owner == me.Owner {
				c.mu.Unlock()
				c.emit(trace.Warn, drv.Path(), "driver_unregister", "unregistering the driver from inside its own probe would wait for itself")
				return fmt.Errorf("driver_unregister %q: called from inside a probe of the driver: %w", drv.Name, device.ErrDeadlock)
			}
		}
	}
	dp.registered = false
	b := dp.bus
	for i, x := range b.p.drivers {
		if x == dp {
			b.p.drivers = append(b.p.drivers[:i:i], b.p.drivers[i+1:]...)
			break
		}
	}
	delete(b.p.drvByName, drv.Name)
	c.mu.Unlock()
	c.waitProbesInFlight(dp)

	c.enter()
	defer c.exit()
	c.emit(trace.DriverDel, drv.Path(), "driver_unregister", "")
	// driver_detach: async_synchronize_full for an asynchronous driver,
	// then always the last device of the driver's list.
	if drv.AllowsAsyncProbing() {
		c.asyncSynchronizeFull(drv.Path())
	}
	c.mu.Lock()
	dp.detaching = true
	c.mu.Unlock()
	for {
		c.mu.Lock()
		n := dp.devices.back()
		c.mu.Unlock()
		if n == nil {
			break
		}
		p := n.v
		p.dev.Get()
		err := c.releaseDriver(p, drv)
		_ = p.dev.Put()
		c.mu.Lock()
		stuck := dp.devices.back() == n
		if stuck {
			n.unlink()
			dp.count--
		}
		c.mu.Unlock()
		if err != nil || stuck {
			c.emit(trace.Warn, p.dev.Path(), "driver_detach", fmt.Sprintf("device could not be unbound (%v)", err))
		}
	}
	c.emit(trace.Uevent, drv.Path(), "kobject_uevent", "remove")
	drv.SetPrivate(nil)
	return nil
}

// waitProbesInFlight waits until no task has a synchronous probe of dp in
// flight (klist_remove of the driver's knode_bus). dp is no longer
// registered, so no new probe of it starts. Asynchronous probe jobs are
// left to driver_detach's async_synchronize_full, as in the kernel. The caller's own probe of dp is there only
// with lockdep off (UnregisterDriver refuses it otherwise): then the wait
// never ends, as in a kernel without lockdep, and the hung-task detector
// (or the simulator) reports it.
func (c *Core) waitProbesInFlight(dp *drvPriv) {
	busy := func() bool {
		for _, h := range dp.probers {
			if !h.async {
				return true
			}
		}
		return false
	}
	c.mu.Lock()
	if !busy() {
		c.mu.Unlock()
		return
	}
	n := len(dp.probers)
	c.mu.Unlock()
	path := dp.drv.Path()
	c.emit(trace.DriverDel, path, "bus_remove_driver", fmt.Sprintf("waiting for %d probes in flight", n))
	holders := func() ([]env.Owner, string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		var who []env.Owner
		for _, h := range dp.probers {
			who = append(who, h.Owner)
		}
		return who, fmt.Sprintf("%d probes of the driver in flight", len(who))
	}
	if s := c.env.Scheduler(); s != nil {
		s.Block(sched.Wait{What: "bus_remove_driver " + dp.drv.Name + " (probe in flight)", Holder: func() string {
			c.mu.Lock()
			defer c.mu.Unlock()
			if len(dp.probers) > 0 {
				return dp.probers[0].String()
			}
			return ""
		}}, func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return !busy()
		})
		return
	}
	wt := c.env.Watch(env.Watched{What: "probe in flight", Func: "bus_remove_driver", Driver: dp.drv.Name, Holders: holders})
	defer wt.Done()
	c.mu.Lock()
	for busy() {
		c.cond.Wait()
	}
	c.mu.Unlock()
}

// workerHolder names the async worker goroutine while it runs a probe,
// for the hung-task detector.
func (c *Core) workerHolder() ([]env.Owner, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.asyncBusy {
		return nil, ""
	}
	return []env.Owner{env.Owner(c.workerID)}, "the async worker runs a probe"
}

// AttachDriver is driver_attach, as a bus's sysfs files call it (the
// USB core's new_id, usb_store_new_id): offer every device of drv's bus
// that has no driver to drv, and to no other driver, in registration
// order; an asynchronous driver's probes are queued. A driver that is not
// registered gives ErrNoEntry.
func (c *Core) AttachDriver(drv *driver.Driver) error {
	c.mu.Lock()
	dp := c.drvPrivOf(drv)
	ok := dp != nil && dp.registered
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("driver_attach: driver not registered: %w", device.ErrNoEntry)
	}
	c.enter()
	defer c.exit()
	c.driverAttach(dp)
	return nil
}

// driverAttach is driver_attach: __driver_attach for every device of the
// bus, in registration order.
func (c *Core) driverAttach(dp *drvPriv) {
	c.mu.Lock()
	devs := dp.bus.p.devices.values()
	c.mu.Unlock()
	for _, p := range devs {
		if !c.match(dp.bus, dp.drv, p.dev) {
			continue
		}
		if dp.drv.AllowsAsyncProbing() && c.driverAttachAsync(dp, p) {
			continue
		}
		c.driverAttachLocked(dp, p)
	}
}

// driverAttachLocked is the synchronous half of __driver_attach: probe p
// with dp under the device lock if it has no driver.
func (c *Core) driverAttachLocked(dp *drvPriv, p *devPriv) {
	if err := p.dev.Core().Lock(); err != nil {
		return
	}
	defer p.dev.Unlock()
	if !p.dev.IsDead() && p.dev.Driver() == nil {
		_, _ = c.driverProbeDevice(dp, p, false)
	}
}

// driverAttachAsync is the asynchronous half of __driver_attach: with the
// device lock held, a device without a driver and without an asynchronous
// probe already pending (dev->p->async_driver) is claimed for dp; the probe
// is queued once the lock is dropped. It reports false only when the probe
// must run synchronously instead (the Core is closed).
func (c *Core) driverAttachAsync(dp *drvPriv, p *devPriv) bool {
	claim, closed, locked := c.claimAsync(p)
	if !locked {
		return true
	}
	if !claim {
		return !closed
	}
	if !c.queueAsync(asyncJob{p: p, drv: dp}) {
		c.asyncDriverDone(asyncJob{p: p, drv: dp})
		return false
	}
	return true
}

// claimAsync claims p for an asynchronous driver attach under its device
// lock; locked is false when the lock could not be taken.
func (c *Core) claimAsync(p *devPriv) (claim, closed, locked bool) {
	if err := p.dev.Core().Lock(); err != nil {
		return false, false, false
	}
	defer p.dev.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	claim = p.dev.Driver() == nil && !p.asyncQueued && !c.closed
	if claim {
		p.asyncQueued = true
	}
	return claim, c.closed, true
}

// asyncDriverDone clears the device's pending asynchronous driver
// (dev->p->async_driver = NULL) once its job runs or is dropped.
func (c *Core) asyncDriverDone(j asyncJob) {
	if j.drv == nil {
		return
	}
	c.mu.Lock()
	j.p.asyncQueued = false
	c.mu.Unlock()
}

// match is driver_match_device: driver_override, when set, decides alone;
// otherwise the bus's match (nil matches everything). A match callback that
// panics is an oops and matches nothing.
func (c *Core) match(b *Bus, drv *driver.Driver, dev *device.Device) bool {
	if o := dev.DriverOverride(); o != "" {
		return o == drv.Name
	}
	if b.Match == nil {
		return true
	}
	return c.busMatch(b, drv, dev)
}

// busMatch calls the bus's match callback; one that panics is an oops and
// matches nothing.
func (c *Core) busMatch(b *Bus, drv *driver.Driver, dev *device.Device) (ok bool) {
	defer c.recoverOops(nil, env.Watched{What: "match", Func: "driver_match_device", Dev: dev.Path(), Driver: drv.Name})
	return b.Match(dev, drv)
}

package bus

import (
	"fmt"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// ReleaseDriver is device_release_driver: unbind whatever driver dev has
// (a no-op for an unbound device). The only error is ErrDeadlock, when the
// caller holds dev's lock (a driver unbinding its own device from probe or
// remove), or ErrNoDevice for an unknown device.
func (c *Core) ReleaseDriver(dev *device.Device) error {
	p := c.devPrivOf(dev)
	if p == nil {
		return fmt.Errorf("device_release_driver: device not registered in this system: %w", device.ErrNoDevice)
	}
	c.enter()
	defer c.exit()
	return c.releaseDriver(p, nil)
}

// releaseDriver is device_release_driver_internal: with the device lock
// held, release the driver if it is want (or any driver for nil). Bound
// consumers of managed device links are unbound first, with the lock
// dropped, as device_links_unbind_consumers does.
func (c *Core) releaseDriver(p *devPriv, want *driver.Driver) error {
	for {
		again, err := c.releaseDriverOnce(p, want)
		if !again {
			return err
		}
		if err := c.linksUnbindConsumers(p); err != nil {
			return err
		}
	}
}

// releaseDriverOnce is one pass of releaseDriver under the device lock: it
// releases the driver, or reports that bound consumers must be unbound
// first (again).
func (c *Core) releaseDriverOnce(p *devPriv, want *driver.Driver) (again bool, err error) {
	dev := p.dev
	if err := dev.Core().Lock(); err != nil {
		return false, err
	}
	defer dev.Unlock()
	drv := boundDriver(dev)
	if drv == nil || (want != nil && drv != want) {
		return false, nil
	}
	if c.linksBusy(p) {
		dev.Core().SetState(device.StateUnbinding) // DL_STATE_SUPPLIER_UNBIND
		return true, nil
	}
	c.deviceReleaseDriverLocked(p, drv)
	return false, nil
}

// deviceReleaseDriverLocked is __device_release_driver with the device lock
// held: BUS_NOTIFY_UNBIND_DRIVER, device_remove (the bus's remove or the
// driver's), devres_release_all, driver and driver data cleared, device
// links cleaned up, the device leaves the driver's list,
// BUS_NOTIFY_UNBOUND_DRIVER and the "unbind" uevent.
func (c *Core) deviceReleaseDriverLocked(p *devPriv, drv *driver.Driver) {
	dev := p.dev
	b := p.bus
	dev.Core().SetState(device.StateUnbinding)
	c.emit(trace.Unbind, dev.Path(), "__device_release_driver", "driver="+drv.Name)
	c.notify(b, dev, NotifyUnbindDriver)

	c.deviceRemove(p, drv)

	c.unbindCleanup(dev)
	c.linksDriverCleanup(p)
	c.mu.Lock()
	if p.drvNode.linked() {
		p.drvNode.unlink()
		if dp := c.drvPrivOf(drv); dp != nil {
			dp.count--
		}
	}
	c.mu.Unlock()
	if dev.IsDead() {
		dev.Core().SetState(device.StateRemoved)
	} else {
		dev.Core().SetState(device.StateAdded)
	}
	c.notify(b, dev, NotifyUnboundDriver)
	c.uevent(dev, "unbind")
}

// deviceRemove is device_remove: the bus's remove if it has one, else the
// driver's. A remove that panics is an oops, reported; the unbind goes on.
func (c *Core) deviceRemove(p *devPriv, drv *driver.Driver) {
	dev, b := p.dev, p.bus
	c.emit(trace.Remove, dev.Path(), "device_remove", "driver="+drv.Name)
	c.env.Yield(sched.Point{Kind: "remove", Func: "device_remove", Obj: dev.Path()})
	w := env.Watched{What: "remove", Func: "device_remove", Dev: dev.Path(), Driver: drv.Name}
	wt := c.env.Watch(w)
	defer wt.Done()
	defer c.recoverOops(nil, w)
	if b.Remove != nil {
		b.Remove(dev, drv)
	} else {
		drv.CallRemove(dev)
	}
}

// Bind models writing a device name to /sys/bus/<bus>/drivers/<drv>/bind
// (bind_store -> device_driver_attach): bind dev to the named driver of its
// bus now, synchronously. Errors: ErrNoDevice for an unknown device or a
// driver that does not match it; ErrNoEntry for an unknown driver, or one
// whose bind attributes are suppressed (the bind file does not exist);
// ErrBusy if dev already has a driver; ErrDeadlock if the caller holds dev's
// lock; the probe's own error if it failed (a probe that panicked gives its
// oops, matching env.ErrOops; a deferral gives ErrAgain, as
// device_driver_attach turns -EPROBE_DEFER into -EAGAIN; it also matches
// ErrProbeDefer).
func (c *Core) Bind(dev *device.Device, driverName string) error {
	p := c.devPrivOf(dev)
	if p == nil || p.bus == nil {
		return fmt.Errorf("bind: device not registered on a bus of this system: %w", device.ErrNoDevice)
	}
	c.mu.Lock()
	dp := p.bus.p.drvByName[driverName]
	c.mu.Unlock()
	if dp == nil {
		return fmt.Errorf("bind %s: no driver %q on bus %q: %w", dev.Path(), driverName, p.bus.Name, device.ErrNoEntry)
	}
	if dp.drv.SuppressBindAttrs {
		return fmt.Errorf("bind %s: driver %q suppresses its bind attributes (no bind file): %w", dev.Path(), driverName, device.ErrNoEntry)
	}
	if !c.match(p.bus, dp.drv, dev) {
		return fmt.Errorf("bind %s: driver %q does not match the device: %w", dev.Path(), driverName, device.ErrNoDevice)
	}
	c.enter()
	defer c.exit()
	c.emit(trace.Note, dev.Path(), "bind_store", "driver="+driverName)
	err := c.bindLocked(dp, p)
	if err != nil && errorsIsDefer(err) {
		return fmt.Errorf("bind %s: %w (%w)", dev.Path(), device.ErrAgain, err)
	}
	return err
}

// bindLocked is device_driver_attach: __driver_probe_device under the
// device lock.
func (c *Core) bindLocked(dp *drvPriv, p *devPriv) error {
	if err := p.dev.Core().Lock(); err != nil {
		return err
	}
	defer p.dev.Unlock()
	err, _ := c.driverProbeDeviceLocked(dp, p, false)
	return err
}

// Unbind models writing a device name to the unbind file of its driver
// (unbind_store -> device_release_driver). Errors: ErrNoDevice for an
// unknown or unbound device; ErrNoEntry when the driver suppresses its bind
// attributes; ErrDeadlock when the caller holds dev's lock (a driver
// unbinding its own device from probe or remove).
func (c *Core) Unbind(dev *device.Device) error {
	p := c.devPrivOf(dev)
	if p == nil {
		return fmt.Errorf("unbind: device not registered in this system: %w", device.ErrNoDevice)
	}
	drv := boundDriver(dev)
	if drv == nil {
		return fmt.Errorf("unbind %s: no driver bound: %w", dev.Path(), device.ErrNoDevice)
	}
	if drv.SuppressBindAttrs {
		return fmt.Errorf("unbind %s: driver %q suppresses its bind attributes (no unbind file): %w", dev.Path(), drv.Name, device.ErrNoEntry)
	}
	c.enter()
	defer c.exit()
	c.emit(trace.Note, dev.Path(), "unbind_store", "driver="+drv.Name)
	return c.releaseDriver(p, drv)
}

// Attach is device_attach: try to bind dev now (for instance after setting
// driver_override), synchronously. It returns whether dev is bound.
func (c *Core) Attach(dev *device.Device) (bool, error) {
	p := c.devPrivOf(dev)
	if p == nil || p.bus == nil {
		return false, fmt.Errorf("device_attach: device not registered on a bus of this system: %w", device.ErrNoDevice)
	}
	c.enter()
	defer c.exit()
	if err := dev.Core().Lock(); err != nil {
		return false, err
	}
	defer dev.Unlock()
	if !dev.IsDead() && dev.Driver() == nil {
		c.attachDrivers(p, false, false)
	}
	return dev.Driver() != nil, nil
}

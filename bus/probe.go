package bus

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// deviceAttach is __device_attach: with the device lock held, every driver
// of the bus that matches, in registration order, until one binds. A probe
// that fails lets the next driver try; a refusal before the probe ran (dead,
// busy, supplier not ready) stops the walk. With allowAsync, drivers that
// prefer asynchronous probing are skipped and, if nothing bound, the device
// is queued for the async worker (__device_attach_async_helper) once the
// device lock is dropped, as the kernel has done since commit b232b02bf3c2
// ("driver core: fix deadlock in __device_attach").
func (c *Core) deviceAttach(p *devPriv, allowAsync bool) {
	dev := p.dev
	if err := dev.Core().Lock(); err != nil {
		return
	}
	async := false
	if !dev.IsDead() && dev.Driver() == nil {
		c.mu.Lock()
		allowAsync = allowAsync && !c.closed
		c.mu.Unlock()
		haveAsync := c.attachDrivers(p, allowAsync, false)
		// Without allowAsync every matching driver was probed already,
		// asynchronous ones included: nothing is left to queue.
		async = allowAsync && haveAsync && dev.Driver() == nil
	}
	dev.Unlock()
	if async {
		c.queueAsync(asyncJob{p: p})
	}
}

// attachDrivers walks the bus's drivers for p (bus_for_each_drv with
// __device_attach_driver). With checkAsync only drivers whose async
// preference equals wantAsync are probed. It reports whether a matching
// asynchronous driver was seen. Called with the device lock held.
func (c *Core) attachDrivers(p *devPriv, checkAsync, wantAsync bool) (haveAsync bool) {
	c.mu.Lock()
	drivers := append([]*drvPriv(nil), p.bus.p.drivers...)
	c.mu.Unlock()
	for _, dp := range drivers {
		if !c.match(p.bus, dp.drv, p.dev) {
			continue
		}
		async := dp.drv.AllowsAsyncProbing()
		if async {
			haveAsync = true
		}
		if checkAsync && async != wantAsync {
			continue
		}
		err, ran := c.driverProbeDevice(dp, p)
		if err == nil {
			return haveAsync
		}
		if !ran {
			return haveAsync
		}
	}
	return haveAsync
}

// driverProbeDevice is driver_probe_device: __driver_probe_device, then on
// -EPROBE_DEFER the device goes on the pending list, and if a trigger fired
// while the probe ran the list is triggered again so the device is not
// stranded. ran reports whether a probe callback was reached (a failure
// after it lets the next driver try). Called with the device lock held.
func (c *Core) driverProbeDevice(dp *drvPriv, p *devPriv) (err error, ran bool) {
	c.mu.Lock()
	trig := c.triggerCount
	c.mu.Unlock()
	err, ran = c.driverProbeDeviceLocked(dp, p)
	if errors.Is(err, device.ErrProbeDefer) {
		c.deferredProbeAdd(p)
		c.mu.Lock()
		again := trig != c.triggerCount && !c.deferAll
		c.mu.Unlock()
		if again {
			c.deferredProbeTrigger()
		}
	}
	return err, ran
}

// driverProbeDeviceLocked is __driver_probe_device: a dead or unregistered
// device gives ErrNoDevice, a bound one ErrBusy; otherwise the device is
// marked as having matched a driver (dev->can_match, which lets it onto the
// deferred list) and really_probe runs.
func (c *Core) driverProbeDeviceLocked(dp *drvPriv, p *devPriv) (error, bool) {
	dev := p.dev
	if dev.IsDead() || !dev.IsRegistered() {
		return fmt.Errorf("probe %s: device is dead or not registered: %w", dev.Path(), device.ErrNoDevice), false
	}
	if dev.Driver() != nil {
		return fmt.Errorf("probe %s: already bound to %s: %w", dev.Path(), dev.DriverName(), device.ErrBusy), false
	}
	c.mu.Lock()
	registered := dp.registered
	p.canMatch = true // dev->can_match
	c.mu.Unlock()
	if !registered {
		return fmt.Errorf("probe %s: driver %s is being unregistered: %w", dev.Path(), dp.drv.Name, device.ErrNoDevice), false
	}
	return c.reallyProbe(dp, p)
}

// reallyProbe is really_probe.
func (c *Core) reallyProbe(dp *drvPriv, p *devPriv) (error, bool) {
	dev, drv := p.dev, dp.drv
	path := dev.Path()
	c.mu.Lock()
	deferAll := c.deferAll
	c.mu.Unlock()
	if deferAll {
		c.emit(trace.ProbeDefer, path, "really_probe", "driver="+drv.Name+": force probe deferral (probing is blocked)")
		return fmt.Errorf("probe %s: probing is blocked: %w", path, device.ErrProbeDefer), false
	}
	if sup := c.fwnodeWaitingFor(p); sup != nil {
		// fw_devlink: a supplier named by the device's node has no device
		// yet (fwdevlink.go).
		c.emit(trace.ProbeDefer, path, "device_links_check_suppliers", "wait for supplier "+sup.String())
		return fmt.Errorf("probe %s: wait for supplier %s: %w", path, sup, device.ErrProbeDefer), false
	}
	if sup := c.linksCheckSuppliers(p); sup != nil {
		// A managed link defers its consumer for as long as the supplier
		// is unbound, deferred-probe timeout or not (but the timeout
		// relaxes fw_devlink's inferred links to suppliers no driver
		// matched: fwdevlink.go).
		c.emit(trace.ProbeDefer, path, "device_links_check_suppliers", "probe deferral - supplier "+sup.Name()+" not ready")
		return fmt.Errorf("probe %s: supplier %s not ready: %w", path, sup.Path(), device.ErrProbeDefer), false
	}
	c.emit(trace.ProbeStart, path, "really_probe", "bus="+dp.bus.Name+" driver="+drv.Name)
	if !dev.Devres().Empty() {
		c.emit(trace.Warn, path, "really_probe", "Resources present before probing")
		return fmt.Errorf("probe %s: resources present before probing: %w", path, device.ErrBusy), false
	}
	dev.Core().SetState(device.StateProbing)
	dev.Core().SetDriver(drv) // device_set_driver
	c.notify(dp.bus, dev, NotifyBindDriver)

	err := c.callDriverProbe(dp, p)
	if err == nil {
		c.driverBound(dp, p)
		return nil, true
	}
	// probe_failed
	c.notify(dp.bus, dev, NotifyDriverNotBound)
	c.linksNoDriver(p)
	c.unbindCleanup(dev)
	dev.Core().SetState(device.StateAdded)
	return err, true
}

// callDriverProbe is call_driver_probe: the bus's probe if it has one,
// else the driver's, with the result classified as the kernel logs it.
func (c *Core) callDriverProbe(dp *drvPriv, p *devPriv) error {
	dev, drv := p.dev, dp.drv
	var err error
	s := c.env.Scheduler()
	if s != nil {
		s.Yield(sched.Point{Kind: "probe", Func: "call_driver_probe", Obj: dev.Path()})
		if ferr := s.Fault(sched.Probe(drv.Name)); ferr != nil {
			c.emit(trace.Fault, dev.Path(), "call_driver_probe", sched.Probe(drv.Name)+": "+ferr.Error())
			err = ferr
		}
	}
	c.attempts.Add(1)
	if err == nil {
		if dp.bus.Probe != nil {
			err = dp.bus.Probe(dev, drv)
		} else {
			err = drv.CallProbe(dev)
		}
	}
	msg := "driver=" + drv.Name + " ret=" + device.ErrnoName(err)
	switch {
	case err == nil:
	case errors.Is(err, device.ErrProbeDefer):
		msg += ": deferred"
	case driver.IsQuiet(err):
		msg += ": rejects match (not mine)"
	default:
		msg += ": probe failed"
	}
	c.emit(trace.ProbeResult, dev.Path(), "call_driver_probe", msg)
	return err
}

// driverBound is driver_bound: the device joins the driver's list, device
// links learn the supplier is bound, the device leaves the deferred list,
// the deferred list is triggered, BUS_NOTIFY_BOUND_DRIVER and the "bind"
// uevent are sent.
func (c *Core) driverBound(dp *drvPriv, p *devPriv) {
	c.mu.Lock()
	dp.devices.pushBack(&p.drvNode)
	dp.count++
	c.mu.Unlock()
	p.dev.Core().SetState(device.StateBound)
	c.linksDriverBound(p)
	c.emit(trace.ProbeResult, p.dev.Path(), "driver_bound", "driver="+dp.drv.Name+": bound")
	c.deferredProbeDel(p)
	c.deferredProbeTrigger()
	c.notify(dp.bus, p.dev, NotifyBoundDriver)
	c.uevent(p.dev, "bind")
}

// unbindCleanup is device_unbind_cleanup: devres_release_all (last in,
// first out), then dev->driver and the driver data cleared.
func (c *Core) unbindCleanup(dev *device.Device) {
	l := dev.Devres()
	c.emit(trace.DevresRelease, dev.Path(), "devres_release_all", devres.Count(l.Len()))
	l.ReleaseAll()
	dev.Core().SetDriver(nil)
	dev.SetDrvdata(nil)
}

func errorsIsDefer(err error) bool { return errors.Is(err, device.ErrProbeDefer) }

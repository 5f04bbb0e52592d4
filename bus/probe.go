package bus

import (
	"errors"
	"fmt"
	"slices"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/env"
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
	if c.deviceAttachLocked(p, allowAsync) {
		c.queueAsync(asyncJob{p: p})
	}
}

// deviceAttachLocked is the part of __device_attach under the device lock;
// it reports whether the device must be queued for an asynchronous probe.
func (c *Core) deviceAttachLocked(p *devPriv, allowAsync bool) (async bool) {
	dev := p.dev
	if err := dev.Core().Lock(); err != nil {
		return false
	}
	defer dev.Unlock()
	if !dev.IsDead() && dev.Driver() == nil {
		c.mu.Lock()
		allowAsync = allowAsync && !c.closed
		c.mu.Unlock()
		haveAsync := c.attachDrivers(p, allowAsync, false)
		// Without allowAsync every matching driver was probed already,
		// asynchronous ones included: nothing is left to queue.
		async = allowAsync && haveAsync && dev.Driver() == nil
	}
	return async
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
		err, ran := c.driverProbeDevice(dp, p, false)
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
//
// The kernel's re-trigger turns a probe that registers a device which binds
// (a child) and then returns -EPROBE_DEFER into an endless loop of probes:
// Documentation/driver-api/driver-model/driver.rst forbids the pattern
// (commit fbc35b45f9f6, "Add documentation on meaning of -EPROBE_DEFER")
// and the kernel does not bound the loop. drvsim follows the kernel's
// re-trigger for MaxDeferralLoop rounds in a row of such self-triggered
// deferrals, then reports a probe deferral loop (env.BugLivelock) and stops
// re-triggering for that device: it stays on the pending list, retried by
// the next trigger that comes from elsewhere.
func (c *Core) driverProbeDevice(dp *drvPriv, p *devPriv, queued bool) (err error, ran bool) {
	c.mu.Lock()
	trig := c.triggerCount
	c.mu.Unlock()
	err, ran = c.driverProbeDeviceLocked(dp, p, queued)
	if !errors.Is(err, device.ErrProbeDefer) {
		return err, ran
	}
	c.deferredProbeAdd(p)
	c.mu.Lock()
	again := trig != c.triggerCount && !c.deferAll
	loop := false
	if p.selfTriggered {
		p.deferLoops++
		loop = p.deferLoops >= MaxDeferralLoop
	} else {
		p.deferLoops = 0
	}
	report := loop && !p.loopReported
	if report {
		p.loopReported = true
	}
	c.mu.Unlock()
	if report {
		c.reportDeferralLoop(dp, p)
	}
	if again && !loop {
		c.deferredProbeTrigger()
	}
	return err, ran
}

// MaxDeferralLoop is how many probes of one device in a row may defer after
// triggering the deferred-probe list themselves (by registering a device
// that bound) before drvsim reports a probe deferral loop and stops
// re-triggering for the device. The kernel has no such bound: it loops
// for ever (see driverProbeDevice). Up to the bound drvsim does exactly
// what the kernel does, so the trace shows the loop as the kernel runs it;
// ten rounds show it plainly and cost little. The bound cannot catch an
// ordinary deferral: a probe waiting for a missing supplier does not
// trigger the list itself, so its deferrals are never counted.
const MaxDeferralLoop = 10

// reportDeferralLoop files the probe deferral loop of p with driver dp.
func (c *Core) reportDeferralLoop(dp *drvPriv, p *devPriv) {
	path := p.dev.Path()
	c.env.ReportPostponed("driver_deferred_probe_trigger", &env.Report{
		Kind:  env.BugLivelock,
		Title: "BUG: probe deferral loop: " + path + " (driver " + dp.drv.Name + ")",
		Details: fmt.Sprintf("%s: the probe of driver %s returned -EPROBE_DEFER %d times in a row after registering a device\n"+
			"that bound while it ran; each bind triggered the deferred list, which retried the probe at once.\n"+
			"The kernel loops for ever here (Documentation/driver-api/driver-model/driver.rst: -EPROBE_DEFER\n"+
			"must not be returned once probe() has created child devices). drvsim stopped re-triggering the device;\n"+
			"it stays on the pending list. Probe attempts so far: %d.\n", path, dp.drv.Name, MaxDeferralLoop, c.attempts.Load()),
	})
}

// driverProbeDeviceLocked is __driver_probe_device: a dead or unregistered
// device gives ErrNoDevice, a bound one ErrBusy; otherwise the device is
// marked as having matched a driver (dev->can_match, which lets it onto the
// deferred list) and really_probe runs. The probe counts as in flight on
// the driver (UnregisterDriver waits for it) from the check that the
// driver is registered until really_probe is done.
//
// A driver that driver_unregister has taken off its bus is not probed (a
// walk of the bus's drivers no longer finds it), with one exception: the
// probe __driver_attach_async_helper runs for the driver queued on the
// device (queued), which the kernel runs from dev->p->async_driver, bus
// or no bus. driver_detach waits for it (async_synchronize_full) and then
// unbinds what it bound; only once driver_detach has begun is it refused
// too (a probe queued by an async_probe task that unregisters the driver
// itself, which does not wait for itself).
func (c *Core) driverProbeDeviceLocked(dp *drvPriv, p *devPriv, queued bool) (error, bool) {
	dev := p.dev
	if dev.IsDead() || !dev.IsRegistered() {
		return fmt.Errorf("probe %s: device is dead or not registered: %w", dev.Path(), device.ErrNoDevice), false
	}
	if dev.Driver() != nil {
		return fmt.Errorf("probe %s: already bound to %s: %w", dev.Path(), dev.DriverName(), device.ErrBusy), false
	}
	me := c.env.Holder()
	c.mu.Lock()
	registered := dp.registered || (queued && !dp.detaching)
	p.canMatch = true // dev->can_match
	if registered {
		dp.probers = append(dp.probers, prober{Holder: me, async: c.asyncRun[me.Owner] > 0})
		c.probing = append(c.probing, inflight{owner: me.Owner, p: p})
		p.selfTriggered = false
	}
	c.mu.Unlock()
	if !registered {
		return fmt.Errorf("probe %s: driver %s is being unregistered: %w", dev.Path(), dp.drv.Name, device.ErrNoDevice), false
	}
	defer c.probeDone(dp, p, me)
	return c.reallyProbe(dp, p)
}

// probeDone ends a probe in flight of p by dp on task me.
func (c *Core) probeDone(dp *drvPriv, p *devPriv, me env.Holder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, h := range dp.probers {
		if h.Owner == me.Owner {
			dp.probers = slices.Delete(dp.probers, i, i+1)
			break
		}
	}
	for i := len(c.probing) - 1; i >= 0; i-- {
		if f := c.probing[i]; f.owner == me.Owner && f.p == p {
			c.probing = slices.Delete(c.probing, i, i+1)
			break
		}
	}
	c.cond.Broadcast()
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
	if sup := c.linksCheckSuppliers(p); sup != nil {
		// A managed link defers its consumer for as long as the supplier
		// is unbound, deferred-probe timeout or not.
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
// else the driver's, with the result classified as the kernel logs it. A
// probe that panics is an oops: its error matches env.ErrOops and the
// probe counts as failed.
func (c *Core) callDriverProbe(dp *drvPriv, p *devPriv) (err error) {
	dev, drv := p.dev, dp.drv
	if s := c.env.Scheduler(); s != nil {
		s.Yield(sched.Point{Kind: "probe", Func: "call_driver_probe", Obj: dev.Path()})
		if ferr := s.Fault(sched.Probe(drv.Name)); ferr != nil {
			c.emit(trace.Fault, dev.Path(), "call_driver_probe", sched.Probe(drv.Name)+": "+ferr.Error())
			err = ferr
		}
	}
	c.attempts.Add(1)
	defer func() { c.probeResult(drv, dev, err) }()
	if err != nil {
		return err
	}
	w := env.Watched{What: "probe", Func: "call_driver_probe", Dev: dev.Path(), Driver: drv.Name}
	wt := c.env.Watch(w)
	defer wt.Done()
	defer c.recoverOops(&err, w)
	if dp.bus.Probe != nil {
		return dp.bus.Probe(dev, drv)
	}
	return drv.CallProbe(dev)
}

// probeResult traces the probe's return value as call_driver_probe
// classifies it.
func (c *Core) probeResult(drv *driver.Driver, dev *device.Device, err error) {
	msg := "driver=" + drv.Name + " ret=" + device.ErrnoName(err)
	switch {
	case err == nil:
	case errors.Is(err, env.ErrOops):
		msg += ": probe failed (it oopsed)"
	case errors.Is(err, device.ErrProbeDefer):
		msg += ": deferred"
	case driver.IsQuiet(err):
		msg += ": rejects match (not mine)"
	default:
		msg += ": probe failed"
	}
	c.emit(trace.ProbeResult, dev.Path(), "call_driver_probe", msg)
}

// driverBound is driver_bound: the device joins the driver's list, device
// links learn the supplier is bound, the device leaves the deferred list,
// the deferred list is triggered, BUS_NOTIFY_BOUND_DRIVER and the "bind"
// uevent are sent.
func (c *Core) driverBound(dp *drvPriv, p *devPriv) {
	c.mu.Lock()
	dp.devices.pushBack(&p.drvNode)
	dp.count++
	p.deferLoops, p.loopReported = 0, false
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

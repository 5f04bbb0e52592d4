package bus

import (
	"fmt"
	"time"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/trace"
)

// deferredProbeAdd is driver_deferred_probe_add: the device joins the tail
// of the pending list, unless it is already on a deferred list or no driver
// ever matched it (dev->can_match is false: nothing to retry). O(1).
func (c *Core) deferredProbeAdd(p *devPriv) {
	c.mu.Lock()
	if p.deferNode.linked() || p.deleted || !p.canMatch {
		c.mu.Unlock()
		return
	}
	c.pending.pushBack(&p.deferNode)
	c.mu.Unlock()
	c.emit(trace.ProbeDefer, p.dev.Path(), "driver_deferred_probe_add", "added to the pending list")
}

// deferredProbeDel is driver_deferred_probe_del. O(1).
func (c *Core) deferredProbeDel(p *devPriv) {
	c.mu.Lock()
	was := p.deferNode.linked()
	p.deferNode.unlink()
	c.mu.Unlock()
	if was {
		c.emit(trace.ProbeDefer, p.dev.Path(), "driver_deferred_probe_del", "removed from the deferred list")
	}
}

// deferredProbeTrigger is driver_deferred_probe_trigger: the trigger count
// moves and the whole pending list is spliced onto the tail of the active
// list (O(1)). The worker runs when the current top-level operation ends.
// A trigger from the task of a running probe marks that probe (see
// driverProbeDevice).
func (c *Core) deferredProbeTrigger() {
	me := c.env.Self()
	c.mu.Lock()
	c.triggerCount++
	for _, f := range c.probing {
		if f.owner == me {
			f.p.selfTriggered = true // a probe triggering the list itself
		}
	}
	moved := !c.pending.empty()
	c.pending.spliceTo(&c.active)
	c.mu.Unlock()
	if moved {
		c.emit(trace.ProbeDefer, "", "driver_deferred_probe_trigger", "pending list moved to the active list")
	}
}

// deferredProbeWork is deferred_probe_work_func: retry the devices of the
// active list one at a time, from its head: each moves to the end of the
// device list, then bus_probe_device (retries are synchronous in drvsim).
// A device that defers again goes back on the pending list.
func (c *Core) deferredProbeWork() {
	for {
		c.mu.Lock()
		n := c.active.front()
		if n == nil {
			c.mu.Unlock()
			return
		}
		n.unlink()
		p := n.v
		dev := p.dev
		dev.Get()
		// device_pm_move_to_tail: the device, its children and its
		// consumers go to the end of the device list, since the order of
		// registration is no longer a safe suspend/shutdown order.
		c.reorderToTail(p, map[*devPriv]bool{})
		c.mu.Unlock()
		c.emit(trace.ProbeDefer, dev.Path(), "deferred_probe_work_func", "retrying from the deferred list")
		if p.bus != nil && !p.bus.NoAutoprobe {
			// bus_probe_device -> device_initial_probe: a retry may go
			// asynchronous like the first attempt did. A bus without
			// drivers_autoprobe is left alone.
			c.deviceAttach(p, true)
		}
		_ = dev.Put()
	}
}

// FlushDeferred triggers the pending list and runs the deferred-probe
// worker until the active list is empty (driver_deferred_probe_trigger plus
// flush_work(&deferred_probe_work)). In the synchronous default the worker
// already runs at the end of every top-level operation, so FlushDeferred is
// only needed to retry devices whose dependency changed without a bind (the
// kernel's late_initcall trigger does the same).
func (c *Core) FlushDeferred() {
	c.enter()
	c.deferredProbeTrigger()
	c.exit()
}

// DeferredDevices returns the devices on the deferred-probe lists: those
// triggered and waiting for the worker (the active list) first, then the
// pending list, each in list order. The kernel's
// /sys/kernel/debug/devices_deferred shows the pending list only.
func (c *Core) DeferredDevices() []*device.Device {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*device.Device
	for _, p := range c.active.values() {
		out = append(out, p.dev)
	}
	for _, p := range c.pending.values() {
		out = append(out, p.dev)
	}
	return out
}

// SetDeferredProbeTimeout sets driver_deferred_probe_timeout and re-arms
// the timeout d from now on the simulated clock; 0 disables it. The default
// is DefaultDeferredProbeTimeout, armed at NewCore. Registering a driver
// extends a pending timeout to d from then (deferred_probe_extend_timeout).
func (c *Core) SetDeferredProbeTimeout(d time.Duration) {
	c.mu.Lock()
	c.timeout = d
	if d <= 0 {
		c.deadline = 0
	} else if !c.timeoutFired {
		c.deadline = c.env.Now() + d
	}
	c.mu.Unlock()
}

// Now returns the virtual time of the core's environment (env.Env.Now).
func (c *Core) Now() time.Duration { return c.env.Now() }

// Advance lets d of virtual time pass (env.Env.Advance). If the
// deferred-probe timeout falls due, it fires (TimeoutDeferred) before
// Advance returns. drvsim never reads the wall clock.
func (c *Core) Advance(d time.Duration) {
	c.env.Advance(d)
	now := c.env.Now()
	c.mu.Lock()
	due := !c.timeoutFired && c.deadline > 0 && now >= c.deadline
	c.mu.Unlock()
	if due {
		c.TimeoutDeferred()
	}
}

// TimeoutDeferred is deferred_probe_timeout_work_func, fired now whatever
// the clock says: from now on DeferredProbeCheckState answers ErrTimedOut,
// so a driver waiting for an optional dependency gives up on it and probes
// without it; every deferred device is retried at once, and those still
// deferring (a mandatory dependency, a managed device link to an unbound
// supplier) stay on the pending list, each logged as "deferred probe
// pending", exactly as the kernel leaves them. A second call only retries
// the pending list.
func (c *Core) TimeoutDeferred() {
	c.enter()
	c.mu.Lock()
	first := !c.timeoutFired
	c.timeoutFired = true
	c.deadline = 0
	c.mu.Unlock()
	if first {
		c.emit(trace.ProbeDefer, "", "deferred_probe_timeout_work_func", "deferred probe timeout: optional dependencies are now ignored")
	}
	c.deferredProbeTrigger()
	c.exit()
	for _, dev := range c.DeferredDevices() {
		c.emit(trace.Warn, dev.Path(), "deferred_probe_timeout_work_func", "deferred probe pending")
	}
}

// DeferredProbeCheckState is driver_deferred_probe_check_state: what a
// driver calls when an optional dependency (a power domain, a pin
// controller, an IOMMU it can live without) is missing. Before the
// deferred-probe timeout it returns ErrProbeDefer, so the probe defers and
// waits for the dependency; after it, ErrTimedOut, and the driver probes
// without the dependency (or fails, its choice). dev names the device in
// the trace.
func (c *Core) DeferredProbeCheckState(dev *device.Device) error {
	if dev == nil {
		return fmt.Errorf("driver_deferred_probe_check_state: nil device: %w", device.ErrInvalid)
	}
	if !c.DeferredTimedOut() {
		return device.ErrProbeDefer
	}
	c.emit(trace.Warn, dev.Path(), "driver_deferred_probe_check_state", "deferred probe timeout, ignoring dependency")
	return device.ErrTimedOut
}

// DeferredTimedOut reports whether the deferred-probe timeout has fired.
func (c *Core) DeferredTimedOut() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timeoutFired
}

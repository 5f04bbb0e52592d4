package bus

import (
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Shutdown is device_shutdown: outstanding probes are waited for
// (wait_for_device_probe), probing is blocked (device_block_probing: later
// probes defer) and waited for once more, then the device list is walked
// from its end, so children come before parents and consumers before
// suppliers. For every device, with its lock held, the bus's shutdown runs
// if the bus has one (bound or not: drv is nil for a device without a
// driver, and the bus callback decides), else the driver's shutdown if the
// device is bound.
func (c *Core) Shutdown() {
	c.WaitForProbes()
	c.mu.Lock()
	c.deferAll = true
	c.mu.Unlock()
	c.WaitForProbes()
	c.enter()
	defer c.exit()
	c.emit(trace.Shutdown, "", "device_shutdown", "")
	c.mu.Lock()
	devs := c.devices.values()
	c.mu.Unlock()
	for i := len(devs) - 1; i >= 0; i-- {
		c.shutdownDevice(devs[i])
	}
}

// shutdownDevice runs the shutdown callback of one device under its lock.
// A shutdown that panics is an oops; the walk goes on.
func (c *Core) shutdownDevice(p *devPriv) {
	dev := p.dev
	if err := dev.Core().Lock(); err != nil {
		return
	}
	defer dev.Unlock()
	drv := boundDriver(dev)
	busShutdown := p.bus != nil && p.bus.Shutdown != nil
	if dev.IsDead() || (!busShutdown && drv == nil) {
		return
	}
	var msg, drvName string
	if drv != nil {
		msg, drvName = "driver="+drv.Name, drv.Name
	} else {
		msg = "bus=" + p.bus.Name // busShutdown: p.bus is set
	}
	c.emit(trace.Shutdown, dev.Path(), "device_shutdown", msg)
	c.env.Yield(sched.Point{Kind: "shutdown", Func: "device_shutdown", Obj: dev.Path()})
	w := env.Watched{What: "shutdown", Func: "device_shutdown", Dev: dev.Path(), Driver: drvName}
	wt := c.env.Watch(w)
	defer wt.Done()
	defer c.recoverOops(nil, w)
	if busShutdown {
		p.bus.Shutdown(dev, drv)
	} else {
		drv.CallShutdown(dev)
	}
}

// ProbingBlocked reports whether Shutdown has blocked probing
// (defer_all_probes).
func (c *Core) ProbingBlocked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deferAll
}

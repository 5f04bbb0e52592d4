package bus

import (
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Shutdown is device_shutdown: probing is blocked (device_block_probing:
// later probes defer), outstanding probes are waited for, then the device
// list is walked from its end, so children come before parents and
// consumers before suppliers, calling the bus's shutdown (or else the
// driver's) for every bound device with its lock held.
func (c *Core) Shutdown() {
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
	s := c.Scheduler()
	for i := len(devs) - 1; i >= 0; i-- {
		p := devs[i]
		dev := p.dev
		if err := dev.Core().Lock(); err != nil {
			continue
		}
		if drv := boundDriver(dev); drv != nil && !dev.IsDead() {
			c.emit(trace.Shutdown, dev.Path(), "device_shutdown", "driver="+drv.Name)
			if s != nil {
				s.Yield(sched.Point{Kind: "shutdown", Func: "device_shutdown", Obj: dev.Path()})
			}
			c.markLockOwner(dev)
			if p.bus != nil && p.bus.Shutdown != nil {
				p.bus.Shutdown(dev, drv)
			} else {
				drv.CallShutdown(dev)
			}
		}
		dev.Unlock()
	}
}

// ProbingBlocked reports whether Shutdown has blocked probing
// (defer_all_probes).
func (c *Core) ProbingBlocked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deferAll
}

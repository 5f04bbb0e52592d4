package bus

import (
	"github.com/drvsim/drvsim/internal/goid"
	"github.com/drvsim/drvsim/trace"
)

// asyncJob is one asynchronous probe: a device attach over the bus's
// asynchronous drivers (drv nil, __device_attach_async_helper) or one
// driver for one device (__driver_attach_async_helper).
type asyncJob struct {
	p   *devPriv
	drv *drvPriv
}

// queueAsync is async_schedule_dev: the job joins the tail of the Core's
// FIFO queue, holding a reference on the device. It returns false after
// Close (the caller then probes synchronously).
func (c *Core) queueAsync(j asyncJob) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	j.p.dev.Get()
	c.queue = append(c.queue, j)
	c.cond.Broadcast()
	c.mu.Unlock()
	msg := "scheduling asynchronous probe"
	if j.drv != nil {
		msg += " driver=" + j.drv.drv.Name
	}
	c.emit(trace.ProbeAsync, j.p.dev.Path(), "async_schedule_dev", msg)
	return true
}

// SetAsyncConcurrent chooses when the async worker runs. false (the
// default): queued asynchronous probes run, in FIFO order on the worker
// goroutine, only while someone waits for them (WaitForProbes, Shutdown), so
// the trace is the same on every run. true: the worker runs them as soon as
// they are queued, concurrently with the caller, as the kernel does; the
// trace order then depends on the Go scheduler unless a sched.Scheduler
// controls the run.
func (c *Core) SetAsyncConcurrent(on bool) {
	c.mu.Lock()
	c.concurrent = on
	c.cond.Broadcast()
	c.mu.Unlock()
}

// worker is the Core's async-probe goroutine (the kernel's async domain,
// reduced to one thread so that probes run in queue order).
func (c *Core) worker() {
	defer c.wg.Done()
	id := goid.Get()
	c.mu.Lock()
	c.workerID = id
	for {
		for !c.closed && (c.qhead == len(c.queue) || (!c.concurrent && c.kick == 0)) {
			c.cond.Wait()
		}
		if c.closed {
			break
		}
		j := c.queue[c.qhead]
		c.queue[c.qhead] = asyncJob{}
		c.qhead++
		if c.qhead == len(c.queue) {
			c.queue, c.qhead = c.queue[:0], 0
		}
		c.asyncBusy = true
		c.mu.Unlock()
		c.runJob(j)
		c.mu.Lock()
		c.asyncBusy = false
		c.cond.Broadcast()
	}
	dropped := append([]asyncJob(nil), c.queue[c.qhead:]...)
	c.queue, c.qhead = nil, 0
	c.cond.Broadcast()
	c.mu.Unlock()
	for _, j := range dropped {
		c.emit(trace.ProbeAsync, j.p.dev.Path(), "async_synchronize_full", "asynchronous probe dropped at Close")
		_ = j.p.dev.Put()
	}
}

func (c *Core) runJob(j asyncJob) {
	c.enter()
	dev := j.p.dev
	if j.drv == nil {
		c.emit(trace.ProbeAsync, dev.Path(), "__device_attach_async_helper", "")
		if dev.Core().Lock() == nil {
			if !dev.IsDead() && dev.Driver() == nil {
				c.attachDrivers(j.p, true, true)
			}
			dev.Unlock()
		}
	} else {
		c.emit(trace.ProbeAsync, dev.Path(), "__driver_attach_async_helper", "driver="+j.drv.drv.Name)
		if dev.Core().Lock() == nil {
			if !dev.IsDead() && dev.Driver() == nil {
				_, _ = c.driverProbeDevice(j.drv, j.p)
			}
			dev.Unlock()
		}
	}
	c.exit()
	_ = dev.Put()
}

// WaitForProbes is wait_for_device_probe: it lets the async worker run and
// returns once no asynchronous probe is queued or running and the
// deferred-probe worker is idle. Do not call it from a probe or remove
// callback (the kernel would deadlock too).
func (c *Core) WaitForProbes() {
	c.mu.Lock()
	c.kick++
	c.cond.Broadcast()
	for (c.qhead < len(c.queue) && !c.closed) || c.asyncBusy || c.deferredRunning {
		c.cond.Wait()
	}
	c.kick--
	c.mu.Unlock()
}

package bus

import (
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/internal/gid"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// asyncJob is one asynchronous probe: a device attach over the bus's
// asynchronous drivers (drv nil, __device_attach_async_helper) or one
// driver for one device (__driver_attach_async_helper).
type asyncJob struct {
	p   *devPriv
	drv *drvPriv
}

// queueAsync is async_schedule_dev: the job takes a reference on the
// device and joins the async domain. Under a scheduler that is a
// sched.Spawner it runs as a new scheduler task (spawnAsync); otherwise it
// joins the tail of the Core's FIFO queue for the worker goroutine. It
// returns false after Close (the caller then probes synchronously).
func (c *Core) queueAsync(j asyncJob) bool {
	msg := "scheduling asynchronous probe"
	if j.drv != nil {
		msg += " driver=" + j.drv.drv.Name
	}
	announced := false
	if sp, ok := c.env.Scheduler().(sched.Spawner); ok {
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return false
		}
		j.p.dev.Get()
		c.emit(trace.ProbeAsync, j.p.dev.Path(), "async_schedule_dev", msg)
		if c.spawnAsync(sp, j) {
			return true
		}
		// The caller cannot start a task (it is no task, or the run is
		// over): the job goes to the worker goroutine after all.
		_ = j.p.dev.Put()
		announced = true
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	j.p.dev.Get()
	c.startWorkerLocked()
	c.queue = append(c.queue, j)
	c.cond.Broadcast()
	c.mu.Unlock()
	if !announced {
		c.emit(trace.ProbeAsync, j.p.dev.Path(), "async_schedule_dev", msg)
	}
	return true
}

// SetAsyncConcurrent chooses when the async worker runs. false (the
// default): queued asynchronous probes run, in FIFO order on the worker
// goroutine, only while someone waits for them (WaitForProbes, Shutdown), so
// the trace is the same on every run. true: the worker runs them as soon as
// they are queued, concurrently with the caller, as the kernel does; the
// trace order then depends on the Go scheduler. Probes run as tasks of a
// simulator (a System built with drvsim.OnSim) are always concurrent, as in
// the kernel: the scheduler chooses, replayably, when they run.
func (c *Core) SetAsyncConcurrent(on bool) {
	c.mu.Lock()
	c.concurrent = on
	c.cond.Broadcast()
	c.mu.Unlock()
}

// startWorkerLocked starts the worker goroutine unless it runs already;
// c.mu is held and c is not closed. Starting it with the first job, not
// with the Core, leaves a Core whose probes never need it (one on a
// simulator) without a goroutine to stop.
func (c *Core) startWorkerLocked() {
	if c.started {
		return
	}
	c.started = true
	c.wg.Add(1)
	go c.worker()
}

// worker is the Core's async-probe goroutine (the kernel's async domain,
// reduced to one thread so that probes run in queue order).
func (c *Core) worker() {
	defer c.wg.Done()
	id := gid.Get()
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
		c.asyncDriverDone(j)
		_ = j.p.dev.Put()
	}
}

// runJob runs one asynchronous probe: __device_attach_async_helper (every
// asynchronous driver of the bus) or __driver_attach_async_helper (one
// driver), with the device lock taken through device_lock, so that under a
// scheduler the wait is a schedule point. A device removed (dead) or bound
// since the job was queued is left alone, with a trace note. The probe
// callbacks run under recover (an oops is a failed probe); anything else
// that panics in the job is an oops of the async helper, so that neither
// the worker goroutine nor the process dies.
func (c *Core) runJob(j asyncJob) {
	dev := j.p.dev
	defer func() { _ = dev.Put() }()
	c.enter()
	defer c.exit()
	me := c.env.Self()
	c.mu.Lock()
	c.asyncRun[me]++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.asyncRun[me]--; c.asyncRun[me] == 0 {
			delete(c.asyncRun, me)
		}
		c.mu.Unlock()
	}()
	fn, msg, drvName := "__device_attach_async_helper", "", ""
	if j.drv != nil {
		fn, msg, drvName = "__driver_attach_async_helper", "driver="+j.drv.drv.Name, j.drv.drv.Name
	}
	defer c.recoverOops(nil, env.Watched{What: "async probe", Func: fn, Dev: dev.Path(), Driver: drvName})
	c.emit(trace.ProbeAsync, dev.Path(), fn, msg)
	if dev.Core().Lock() != nil {
		return
	}
	defer dev.Unlock()
	c.asyncDriverDone(j)
	switch {
	case dev.IsDead():
		c.emit(trace.ProbeAsync, dev.Path(), fn, "device removed before the asynchronous probe ran: skipped")
	case dev.Driver() != nil:
		c.emit(trace.ProbeAsync, dev.Path(), fn, "device already bound to "+dev.DriverName()+": skipped")
	case j.drv == nil:
		c.attachDrivers(j.p, true, true)
	default:
		_, _ = c.driverProbeDevice(j.drv, j.p, true)
	}
}

// WaitForProbes is wait_for_device_probe: it lets the async worker run and
// returns once no asynchronous probe is queued or running (async_synchronize_full)
// and the deferred-probe worker is idle. Do not call it from a probe or
// remove callback (the kernel would deadlock too; under a scheduler the run
// fails with a deadlock report).
//
// Called from a task of a scheduler that is a sched.Spawner it waits with
// sched.Scheduler.Block, so the other tasks (the async_probe tasks among
// them) run meanwhile. Called from setup code while async_probe tasks are
// pending, it fails the run: the tasks cannot run before the run starts.
func (c *Core) WaitForProbes() {
	s := c.env.Scheduler()
	if _, ok := s.(sched.Spawner); ok && (s.Current() != "" || c.tasksPending()) {
		c.mu.Lock()
		c.kick++
		c.cond.Broadcast()
		c.mu.Unlock()
		s.Block(sched.Wait{What: "wait_for_device_probe", Holder: c.asyncHolder}, func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.probesIdleLocked()
		})
		c.mu.Lock()
		c.kick--
		c.mu.Unlock()
		return
	}
	c.mu.Lock()
	c.kick++
	c.cond.Broadcast()
	if !c.probesIdleLocked() {
		wt := c.env.Watch(env.Watched{What: "wait_for_device_probe", Holders: c.workerHolder})
		for !c.probesIdleLocked() {
			c.cond.Wait()
		}
		wt.Done()
	}
	c.kick--
	c.mu.Unlock()
}

// probesIdleLocked reports, with c.mu held, that no asynchronous probe is
// queued or running, on the worker goroutine or as a scheduler task, and the
// deferred-probe worker is idle.
func (c *Core) probesIdleLocked() bool {
	return c.asyncIdleLocked() && !c.deferredRunning
}

// asyncTasks is the Core's part of the async domain that runs as scheduler
// tasks: one task per queued probe, as each async_schedule_dev entry is its
// own work item on system_unbound_wq. Guarded by Core.mu.
type asyncTasks struct {
	pending int      // spawned and not finished (not yet started, or running)
	running []string // names of the tasks running a job, in start order
}

// asyncTaskName is the name of the tasks running asynchronous probes; the
// scheduler numbers them ("async_probe", "async_probe#2", ...).
const asyncTaskName = "async_probe"

// spawnAsync starts the job as a task of sp. It reports false if sp cannot
// start one for this caller (the caller then uses the worker goroutine).
func (c *Core) spawnAsync(sp sched.Spawner, j asyncJob) bool {
	c.mu.Lock()
	c.tasks.pending++
	c.mu.Unlock()
	if sp.Spawn(asyncTaskName, func() { c.asyncTask(j) }, func() { c.abandonAsync(j) }) {
		return true
	}
	c.mu.Lock()
	c.tasks.pending--
	c.cond.Broadcast()
	c.mu.Unlock()
	return false
}

// asyncTask is the body of an async_probe task: the kworker running
// __device_attach_async_helper or __driver_attach_async_helper for one job.
// Its bookkeeping is deferred, so a task unwound by a failed run still
// leaves the pending count right.
func (c *Core) asyncTask(j asyncJob) {
	name := ""
	if s := c.env.Scheduler(); s != nil {
		name = s.Current()
	}
	c.mu.Lock()
	c.tasks.running = append(c.tasks.running, name)
	closed := c.closed
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		for i, n := range c.tasks.running {
			if n == name {
				c.tasks.running = append(c.tasks.running[:i], c.tasks.running[i+1:]...)
				break
			}
		}
		c.tasks.pending--
		c.cond.Broadcast()
		c.mu.Unlock()
	}()
	if closed {
		c.emit(trace.ProbeAsync, j.p.dev.Path(), "async_synchronize_full", "asynchronous probe dropped at Close")
		c.asyncDriverDone(j)
		_ = j.p.dev.Put()
		return
	}
	c.runJob(j)
}

// abandonAsync drops a job whose task never ran because the run ended
// first (a failed run): the reference the job held is put back.
func (c *Core) abandonAsync(j asyncJob) {
	c.emit(trace.ProbeAsync, j.p.dev.Path(), "async_synchronize_full", "asynchronous probe abandoned: the run ended before its task ran")
	c.asyncDriverDone(j)
	c.mu.Lock()
	c.tasks.pending--
	c.cond.Broadcast()
	c.mu.Unlock()
	_ = j.p.dev.Put()
}

// tasksPending reports whether async_probe tasks are pending.
func (c *Core) tasksPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tasks.pending > 0
}

// asyncHolder names the first task running an asynchronous probe, for the
// wait-for chain of a deadlock report ("" when none runs yet).
func (c *Core) asyncHolder() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.tasks.running) > 0 {
		return c.tasks.running[0]
	}
	return ""
}

// inAsyncTask reports whether the caller is an async_probe task of the
// Core's scheduler.
func (c *Core) inAsyncTask(s sched.Scheduler) bool {
	me := s.Current()
	if me == "" {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.tasks.running {
		if n == me {
			return true
		}
	}
	return false
}

// asyncSynchronizeFull is async_synchronize_full, as driver_detach calls
// it for a driver that allows asynchronous probing: it returns once no
// asynchronous probe is queued or running, on the worker goroutine (which
// it lets run) or as a scheduler task, so that none binds a device to the
// driver after driver_detach has walked its device list, and one queued
// for the driver binds first and is then unbound. The worker goroutine or
// an async_probe task unregistering a driver does not wait for itself
// (the kernel would deadlock). Called from a scheduler's task, or from
// setup code with async_probe tasks pending, it waits through the
// scheduler, as WaitForProbes does. drvPath names the driver in the
// trace.
func (c *Core) asyncSynchronizeFull(drvPath string) {
	s := c.env.Scheduler()
	c.mu.Lock()
	idle := c.asyncIdleLocked()
	self := gid.Get() == c.workerID
	c.mu.Unlock()
	if idle || self || (s != nil && c.inAsyncTask(s)) {
		return
	}
	c.emit(trace.ProbeAsync, drvPath, "async_synchronize_full", "waiting for asynchronous probes")
	c.mu.Lock()
	c.kick++
	c.cond.Broadcast()
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.kick--
		c.mu.Unlock()
	}()
	if _, ok := s.(sched.Spawner); ok && (s.Current() != "" || c.tasksPending()) {
		s.Block(sched.Wait{What: "async_synchronize_full", Holder: c.asyncHolder}, func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.asyncIdleLocked()
		})
		return
	}
	wt := c.env.Watch(env.Watched{What: "async_synchronize_full", Func: "driver_detach", Holders: c.workerHolder})
	defer wt.Done()
	c.mu.Lock()
	for !c.asyncIdleLocked() {
		c.cond.Wait()
	}
	c.mu.Unlock()
}

// asyncIdleLocked reports, with c.mu held, that no asynchronous probe is
// queued or running, on the worker goroutine or as a scheduler task.
func (c *Core) asyncIdleLocked() bool {
	return (c.qhead == len(c.queue) || c.closed) && !c.asyncBusy && c.tasks.pending == 0
}
